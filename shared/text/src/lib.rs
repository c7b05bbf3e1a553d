//! Text analysis for search, the same for indexing and for queries and for every service that
//! indexes text (knowledge articles, tickets), so that both databases only ever compare finished
//! terms:
//!
//! - runs of Chinese characters are segmented into words by jieba (`cut_for_search`, which also
//!   yields the shorter words inside long ones), so 退货 matches 如何办理退货流程 but 退款 does
//!   not match every text that merely contains 退;
//! - runs of letters and digits are lower-cased, English stop words are dropped, and the rest
//!   is reduced to its Snowball English stem, so "refunds" and "refunding" find "refund";
//! - everything else (punctuation, quotes, operators, markup) separates words and means nothing,
//!   so no query can be malformed.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use jieba_rs::Jieba;
use rust_stemmers::{Algorithm, Stemmer};

pub mod postings;

static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);
static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// Words too common to tell texts apart.
const ENGLISH_STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "been", "but", "by", "can", "could", "do", "does", "for", "from", "had", "has", "have", "he",
    "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of",
    "on", "or", "our", "she", "so", "than", "that", "the", "their", "them", "then", "there",
    "these", "they", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who",
    "why", "will", "with", "would", "you", "your",
];
const CHINESE_STOP_WORDS: &[&str] = &[
    "的", "了", "是", "在", "和", "有", "我", "你", "他", "她", "也", "就", "都", "吗", "呢", "吧",
    "啊", "与", "及", "或",
];

/// Longest term kept, in bytes; longer runs are noise (hashes, base64).
const MAX_TERM_BYTES: usize = 64;
/// Most distinct terms a query uses.
pub const MAX_QUERY_TERMS: usize = 32;

/// One word of a text: its term and where it stands (byte offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The normalized term.
    pub term: String,
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset after the last character.
    pub end: usize,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF)
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Class {
    Cjk,
    Word,
    Other,
}

fn class(c: char) -> Class {
    if is_cjk(c) {
        Class::Cjk
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Other
    }
}

/// The tokens of `text`, in order.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut run_start = 0;
    let mut run_class = Class::Other;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        let current = if i == text.len() {
            Class::Other
        } else {
            class(c)
        };
        if current != run_class {
            emit(text, run_start, i, run_class, &mut tokens);
            run_start = i;
            run_class = current;
        }
    }
    tokens
}

fn emit(text: &str, start: usize, end: usize, class: Class, tokens: &mut Vec<Token>) {
    let run = &text[start..end];
    match class {
        Class::Other => {}
        Class::Word => {
            let lower = run.to_lowercase();
            if lower.len() > MAX_TERM_BYTES || ENGLISH_STOP_WORDS.contains(&lower.as_str()) {
                return;
            }
            let term = STEMMER.stem(&lower).into_owned();
            tokens.push(Token { term, start, end });
        }
        Class::Cjk => {
            for word in JIEBA.cut_for_search(run, true) {
                if CHINESE_STOP_WORDS.contains(&word.word) {
                    continue;
                }
                tokens.push(Token {
                    term: word.word.to_owned(),
                    start: start + word.byte_start,
                    end: start + word.byte_end,
                });
            }
        }
    }
}

/// How often each term occurs in a title and a body: the rows of the search index.
pub fn term_frequencies(title: &str, body: &str) -> BTreeMap<String, (i64, i64)> {
    let mut frequencies: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for token in tokenize(title) {
        frequencies.entry(token.term).or_default().0 += 1;
    }
    for token in tokenize(body) {
        frequencies.entry(token.term).or_default().1 += 1;
    }
    frequencies
}

/// The distinct terms of a query, in order of appearance, at most [`MAX_QUERY_TERMS`].
pub fn query_terms(query: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    tokenize(query)
        .into_iter()
        .filter_map(|t| seen.insert(t.term.clone()).then_some(t.term))
        .take(MAX_QUERY_TERMS)
        .collect()
}

/// The weight of a term that occurs in `document_frequency` of `documents` texts: BM25's
/// inverse document frequency, in thousandths, so scores are integers and rank identically on
/// every database.
pub fn term_weight(documents: i64, document_frequency: i64) -> i64 {
    let n = documents.max(document_frequency).max(1) as f64;
    let df = document_frequency.max(0) as f64;
    let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
    ((idf * 1000.0).round() as i64).max(1)
}

/// Points per matched term before weighting: a title match counts 5, body occurrences count up to 3,
/// so a word in the title outranks any number of mentions in the body.
pub const TITLE_POINTS: i64 = 5;
/// Cap on body occurrences counted per term (term-frequency saturation).
pub const MAX_BODY_POINTS: i64 = 3;
/// Added per distinct matched term, so texts matching more query words rank first.
pub const COVERAGE_BONUS: i64 = 1_000_000;

/// Characters of context a snippet shows around its first match.
const SNIPPET_BEFORE: usize = 60;
const SNIPPET_LENGTH: usize = 220;

/// An excerpt of `body` (or of `title` when the body has no match) around the first match, with
/// matched words in `<mark>…</mark>` and the rest HTML-escaped.
pub fn snippet(title: &str, body: &str, terms: &[String]) -> String {
    let wanted: HashSet<&str> = terms.iter().map(String::as_str).collect();
    for text in [body, title] {
        let matches: Vec<Token> = tokenize(text)
            .into_iter()
            .filter(|t| wanted.contains(t.term.as_str()))
            .collect();
        let Some(first) = matches.first() else {
            continue;
        };
        let start = floor_char_boundary(text, first.start, SNIPPET_BEFORE);
        let end = ceil_char_boundary(text, start, SNIPPET_LENGTH);
        let mut out = String::new();
        if start > 0 {
            out.push('…');
        }
        let mut cursor = start;
        for token in matches.iter().filter(|t| t.start >= start && t.end <= end) {
            if token.start < cursor {
                continue; // overlapping sub-word of a word already marked
            }
            out.push_str(&escape(&text[cursor..token.start]));
            out.push_str("<mark>");
            out.push_str(&escape(&text[token.start..token.end]));
            out.push_str("</mark>");
            cursor = token.end;
        }
        out.push_str(&escape(&text[cursor..end]));
        if end < text.len() {
            out.push('…');
        }
        return out;
    }
    escape(&body.chars().take(SNIPPET_LENGTH).collect::<String>())
}

fn floor_char_boundary(text: &str, at: usize, chars_before: usize) -> usize {
    text[..at]
        .char_indices()
        .rev()
        .nth(chars_before.saturating_sub(1))
        .map_or(0, |(i, _)| i)
}

fn ceil_char_boundary(text: &str, from: usize, chars: usize) -> usize {
    text[from..]
        .char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| from + i)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The score of one text over a postings table aliased `p` (columns `term`, `title_tf`,
/// `body_tf`), grouped by text, and the list of the terms for `p.term IN (…)`, both bound in
/// `params`:
///
/// score = Σ over matched terms of weight × (title match ? 5 : 0 + min(body count, 3))
///         + 1,000,000 × number of matched terms
///
/// All integers, so SQLite and PostgreSQL rank identically.
pub fn score_sql(
    params: &mut kefu_db::Params,
    weighted_terms: &[(String, i64)],
) -> (String, String) {
    let mut cases = String::from("CASE p.term");
    for (term, weight) in weighted_terms {
        cases.push_str(&format!(
            " WHEN {} THEN {}",
            params.bind(term.clone()),
            params.bind(*weight)
        ));
    }
    cases.push_str(" ELSE 0 END");
    let terms = params.list(weighted_terms.iter().map(|(term, _)| term.clone()));
    let points = format!(
        "(CASE WHEN p.title_tf > 0 THEN {TITLE_POINTS} ELSE 0 END + CASE WHEN p.body_tf > {MAX_BODY_POINTS} THEN {MAX_BODY_POINTS} ELSE p.body_tf END)"
    );
    // PostgreSQL sums BIGINTs into NUMERIC; the cast keeps one integer type on both databases.
    let score =
        format!("(CAST(SUM(({cases}) * {points}) AS BIGINT) + COUNT(*) * {COVERAGE_BONUS})");
    (score, terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        tokenize(text).into_iter().map(|t| t.term).collect()
    }

    #[test]
    fn english_is_stemmed_and_stop_words_dropped() {
        assert_eq!(
            terms("Refunds for the Returned ITEMS"),
            vec!["refund", "return", "item"]
        );
        assert_eq!(query_terms("refund"), terms("refunds"));
        assert_eq!(
            terms("\"refund\" AND (policy) OR -x*"),
            vec!["refund", "polici", "x"]
        );
    }

    #[test]
    fn chinese_is_segmented_into_words() {
        let indexed = terms("如何办理退货流程");
        assert!(indexed.contains(&"退货".to_owned()), "{indexed:?}");
        assert!(!indexed.contains(&"退".to_owned()), "{indexed:?}");
        assert!(!indexed.contains(&"退款".to_owned()));
        assert_eq!(query_terms("退款"), vec!["退款"]);
    }

    #[test]
    fn mixed_text_keeps_offsets_right() {
        let text = "VIP客户的退货 refunds";
        for token in tokenize(text) {
            assert!(text.is_char_boundary(token.start) && text.is_char_boundary(token.end));
        }
        let snippet = snippet("t", text, &query_terms("退货 refund"));
        assert!(snippet.contains("<mark>退货</mark>"), "{snippet}");
        assert!(snippet.contains("<mark>refunds</mark>"), "{snippet}");
    }

    #[test]
    fn snippets_escape_markup_and_fall_back_to_the_title() {
        let snippet = snippet(
            "Refund policy",
            "<b>nothing</b> here",
            &query_terms("refund"),
        );
        assert_eq!(snippet, "<mark>Refund</mark> policy");
        let snippet = super::snippet("x", "<script>refund</script>", &query_terms("refund"));
        assert_eq!(snippet, "&lt;script&gt;<mark>refund</mark>&lt;/script&gt;");
    }

    #[test]
    fn rarer_terms_weigh_more_and_garbage_queries_are_harmless() {
        assert!(term_weight(1000, 5) > term_weight(1000, 500));
        assert!(term_weight(0, 0) >= 1);
        assert!(query_terms(&"\"((( AND OR NOT ***".repeat(1000)).len() <= MAX_QUERY_TERMS);
        assert!(query_terms("!!! ''' ---").is_empty());
    }
}
