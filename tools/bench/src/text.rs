//! Generated text for the benchmarks: Zipf-distributed English and Chinese vocabularies, seeded,
//! so every run builds the same data, and the queries people type against it.

use rand::Rng;
use rand::rngs::StdRng;

const ENGLISH: &[&str] = &[
    "refund",
    "order",
    "payment",
    "shipping",
    "delivery",
    "return",
    "warranty",
    "repair",
    "account",
    "password",
    "invoice",
    "subscription",
    "cancel",
    "upgrade",
    "discount",
    "coupon",
    "address",
    "tracking",
    "parcel",
    "damaged",
    "replacement",
    "battery",
    "charger",
    "screen",
    "kettle",
    "blender",
    "vacuum",
    "filter",
    "install",
    "setup",
    "login",
    "security",
    "privacy",
    "export",
    "report",
    "team",
    "agent",
    "ticket",
    "priority",
    "schedule",
    "holiday",
    "store",
    "credit",
    "card",
    "bank",
    "transfer",
    "currency",
    "tax",
    "receipt",
    "exchange",
    "size",
    "color",
    "fabric",
    "clean",
    "wash",
    "manual",
    "guide",
    "troubleshoot",
    "error",
    "update",
    "firmware",
    "bluetooth",
    "wifi",
];
const CHINESE: &[&str] = &[
    "退货",
    "退款",
    "订单",
    "支付",
    "配送",
    "快递",
    "保修",
    "维修",
    "账号",
    "密码",
    "发票",
    "订阅",
    "取消",
    "升级",
    "优惠券",
    "地址",
    "物流",
    "包裹",
    "损坏",
    "更换",
    "电池",
    "充电器",
    "屏幕",
    "水壶",
    "安装",
    "登录",
    "安全",
    "隐私",
    "会员",
    "积分",
    "客服",
    "工单",
    "优先级",
    "节假日",
    "门店",
    "信用卡",
    "银行",
    "转账",
    "税费",
    "收据",
];
/// Short words every sentence has, that search must not rank by.
const FILLER_EN: &[&str] = &[
    "the", "your", "is", "to", "and", "we", "can", "please", "how", "when", "after", "before",
];
/// The same in Chinese.
const FILLER_ZH: &[&str] = &[
    "如何", "办理", "流程", "请", "您的", "我们", "可以", "之后", "之前", "需要",
];

/// Words of one language, most frequent first, with Zipf sampling (rank r drawn ∝ 1/r), as in
/// real text: a few words are everywhere, most are rare.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new(words: Vec<String>) -> Self {
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Self { words, cumulative }
    }

    fn sample(&self, rng: &mut StdRng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.random_range(0.0..total);
        let index = self
            .cumulative
            .partition_point(|c| *c < x)
            .min(self.words.len() - 1);
        &self.words[index]
    }

    /// A word among the `top` most frequent, uniformly: what people search for.
    fn query_word(&self, rng: &mut StdRng, top: usize) -> &str {
        &self.words[rng.random_range(0..top.min(self.words.len()))]
    }
}

fn english_vocabulary() -> Vocabulary {
    const ONSETS: &[&str] = &[
        "b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "br", "st", "pl",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou"];
    const CODAS: &[&str] = &["", "n", "r", "s", "t", "x", "ng"];
    let mut words: Vec<String> = ENGLISH.iter().map(|w| (*w).to_owned()).collect();
    'outer: for onset in ONSETS {
        for vowel in VOWELS {
            for onset2 in ONSETS {
                for coda in CODAS {
                    words.push(format!("{onset}{vowel}{onset2}{vowel}{coda}"));
                    if words.len() >= 3000 {
                        break 'outer;
                    }
                }
            }
        }
    }
    Vocabulary::new(words)
}

fn chinese_vocabulary() -> Vocabulary {
    const CHARS: &str = "天地人和平安心意情感家国山水风云花草木林江河海湖春夏秋冬东南西北金银铜铁电子书本学校工作生活服务产品质量价格时间空间文化科技信息网络系统管理设计开发测试";
    let chars: Vec<char> = CHARS.chars().collect();
    let mut words: Vec<String> = CHINESE.iter().map(|w| (*w).to_owned()).collect();
    'outer: for a in &chars {
        for b in &chars {
            words.push(format!("{a}{b}"));
            if words.len() >= 3000 {
                break 'outer;
            }
        }
    }
    Vocabulary::new(words)
}

/// Both languages' vocabularies.
pub(crate) struct Corpus {
    english: Vocabulary,
    chinese: Vocabulary,
}

impl Corpus {
    /// The two 3,000-word vocabularies.
    pub(crate) fn new() -> Self {
        Self {
            english: english_vocabulary(),
            chinese: chinese_vocabulary(),
        }
    }

    /// `words` words of running text in one language, every fourth a filler word.
    pub(crate) fn text(&self, rng: &mut StdRng, chinese: bool, words: usize) -> String {
        let (vocabulary, filler, separator) = if chinese {
            (&self.chinese, FILLER_ZH, "，")
        } else {
            (&self.english, FILLER_EN, " ")
        };
        let words: Vec<&str> = (0..words)
            .map(|k| {
                if k % 4 == 0 {
                    filler[rng.random_range(0..filler.len())]
                } else {
                    vocabulary.sample(rng)
                }
            })
            .collect();
        words.join(separator)
    }

    /// `words` content words (no filler), for a title.
    pub(crate) fn title(&self, rng: &mut StdRng, chinese: bool, words: usize) -> String {
        let (vocabulary, separator) = if chinese {
            (&self.chinese, "，")
        } else {
            (&self.english, " ")
        };
        let words: Vec<&str> = (0..words).map(|_| vocabulary.sample(rng)).collect();
        words.join(separator)
    }

    /// A query as people type them: one or two words from the 500 most frequent of a language,
    /// the hard case, since common words match the most documents.
    pub(crate) fn query(&self, rng: &mut StdRng) -> String {
        match rng.random_range(0..4) {
            0 => self.english.query_word(rng, 500).to_owned(),
            1 => self.chinese.query_word(rng, 500).to_owned(),
            2 => format!(
                "{} {}",
                self.english.query_word(rng, 500),
                self.english.query_word(rng, 500)
            ),
            _ => format!(
                "{}{}",
                self.chinese.query_word(rng, 500),
                self.chinese.query_word(rng, 500)
            ),
        }
    }

    /// The English word of frequency rank `rank` (0 is the most frequent).
    pub(crate) fn english_word(&self, rank: usize) -> &str {
        &self.english.words[rank.min(self.english.words.len() - 1)]
    }
}
