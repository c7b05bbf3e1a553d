//! Who follows a ticket, and which agents an internal note mentions.

/// Most followers of one ticket.
pub const MAX_FOLLOWERS: usize = 100;
/// Most mentions one note acts on; the rest stay text.
pub const MAX_MENTIONS: usize = 20;
/// Longest agent id (as `team::agent_id` accepts).
const MAX_AGENT_ID: usize = 64;

/// The agent ids an internal note mentions as `@agent-id`, in order, each once. An `@` counts
/// only at the start or after a character that is not part of a word (so `ann@example.com` is
/// no mention), and the id runs over `A-Z a-z 0-9 _ -`, 1–64 of them.
pub fn mentions(body: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut previous: Option<char> = None;
    let mut chars = body.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let starts = c == '@' && !previous.is_some_and(is_word_char);
        previous = Some(c);
        if !starts {
            continue;
        }
        let rest = &body[at + 1..];
        let len = rest.find(|ch: char| !is_id_char(ch)).unwrap_or(rest.len());
        let id = rest[..len].trim_end_matches(['-', '_']);
        if !id.is_empty() && id.len() <= MAX_AGENT_ID && !found.iter().any(|f| f == id) {
            found.push(id.to_owned());
        }
        if found.len() == MAX_MENTIONS {
            break;
        }
        // Skip the id itself: `@a@b` mentions only `a`.
        while chars.next_if(|(_, ch)| is_id_char(*ch)).is_some() {}
        previous = Some('x');
    }
    found
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || c == '.'
}

/// Adds `agent_id` to the sorted `followers`; false when already there.
pub fn follow(followers: &mut Vec<String>, agent_id: &str) -> bool {
    match followers.binary_search_by(|f| f.as_str().cmp(agent_id)) {
        Ok(_) => false,
        Err(at) => {
            followers.insert(at, agent_id.to_owned());
            true
        }
    }
}

/// Removes `agent_id` from `followers`; false when not there.
pub fn unfollow(followers: &mut Vec<String>, agent_id: &str) -> bool {
    let before = followers.len();
    followers.retain(|f| f != agent_id);
    followers.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_at_signs_that_start_a_word() {
        assert_eq!(
            mentions("@li-lei please check with @ann_lee, and again @li-lei."),
            ["li-lei", "ann_lee"]
        );
        assert!(mentions("mail ann@example.com or me@").is_empty());
        assert_eq!(mentions("（@zhang-wei）看一下"), ["zhang-wei"]);
        assert_eq!(mentions("@a@b @c-"), ["a", "c"]);
        let long = format!("@{}", "x".repeat(65));
        assert!(mentions(&long).is_empty());
        let many: String = (0..30).map(|i| format!("@agent-{i} ")).collect();
        assert_eq!(mentions(&many).len(), MAX_MENTIONS);
    }

    #[test]
    fn followers_stay_sorted_and_unique() {
        let mut followers = Vec::new();
        assert!(follow(&mut followers, "b"));
        assert!(follow(&mut followers, "a"));
        assert!(!follow(&mut followers, "b"));
        assert_eq!(followers, ["a", "b"]);
        assert!(unfollow(&mut followers, "a"));
        assert!(!unfollow(&mut followers, "a"));
        assert_eq!(followers, ["b"]);
    }
}
