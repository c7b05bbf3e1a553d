//! Skills-based routing's rules: which skills a ticket needs, from its type, category, channel,
//! tags or its requester's locale.

use kefu_server::common::Channel;
use kefu_server::{Violations, validate};

use super::kinds::TicketType;
use super::ticket::{self, MAX_TAGS, TicketRecord};

/// Most skill rules on a group.
pub const MAX_SKILL_RULES: usize = 50;

/// What a skill rule looks at on a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkillCondition {
    /// Tickets of this type.
    Type(TicketType),
    /// Tickets whose category is this path or under it.
    Category(String),
    /// Tickets that came in on this channel.
    Channel(Channel),
    /// Tickets with this tag.
    Tag(String),
    /// Tickets whose requester's locale is this language tag or a narrower one.
    Locale(String),
}

/// A ticket matching `when` needs an agent holding every one of `skills`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillRule {
    /// What the rule looks at.
    pub when: SkillCondition,
    /// Sorted skills.
    pub skills: Vec<String>,
}

impl SkillCondition {
    /// Whether `t` matches.
    pub fn matches(&self, t: &TicketRecord) -> bool {
        match self {
            Self::Type(kind) => t.fields.ticket_type == *kind,
            Self::Category(path) => is_under(&t.fields.category, path, '/'),
            Self::Channel(channel) => t.channel == *channel,
            Self::Tag(tag) => t.fields.tags.contains(tag),
            Self::Locale(tag) => is_under(&t.requester_locale.to_lowercase(), tag, '-'),
        }
    }
}

/// Whether `value` is `prefix` or continues it past a `separator`: `billing/refund` is under
/// `billing`, `billings` is not.
fn is_under(value: &str, prefix: &str, separator: char) -> bool {
    value
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(separator))
}

/// Every skill the matching rules ask for, sorted, once each.
pub fn required_skills(rules: &[SkillRule], t: &TicketRecord) -> Vec<String> {
    let mut skills: Vec<String> = rules
        .iter()
        .filter(|rule| rule.when.matches(t))
        .flat_map(|rule| rule.skills.iter().cloned())
        .collect();
    skills.sort();
    skills.dedup();
    skills
}

/// Whether an agent with `held` skills has every one of `required`.
pub fn holds_all(held: &[String], required: &[String]) -> bool {
    required.iter().all(|skill| held.contains(skill))
}

/// A rule's condition values, normalized as the ticket stores them: a category path as tickets
/// have it, a tag lower-cased, a locale lower-cased.
pub fn condition_value(kind: &str, value: &str, field: &str, v: &mut Violations) -> String {
    match kind {
        "category" => {
            let path = ticket::category(value, field, v);
            if path.is_empty() {
                v.add(field, "must not be empty");
            }
            path
        }
        "tag" => validate::tags(&[value.to_owned()], 1, field, v)
            .into_iter()
            .next()
            .unwrap_or_default(),
        _ => {
            let locale = validate::locale(value, field, v).to_lowercase();
            if locale.is_empty() {
                v.add(field, "must not be empty");
            }
            locale
        }
    }
}

/// A rule's skills: 1 to 20, as agents hold them.
pub fn rule_skills(values: &[String], field: &str, v: &mut Violations) -> Vec<String> {
    if values.is_empty() {
        v.add(field, "must name at least one skill");
    }
    validate::tags(values, MAX_TAGS, field, v)
}

/// The rules' skills that no agent in `known` holds, as `(field, skill)`: a rule asking for one
/// would keep its tickets waiting for ever.
pub fn unknown_skills<'a>(
    rules: &'a [SkillRule],
    known: &[String],
    field: &str,
) -> Vec<(String, &'a str)> {
    let mut unknown = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        for (j, skill) in rule.skills.iter().enumerate() {
            if !known.contains(skill) {
                unknown.push((format!("{field}[{i}].skills[{j}]"), skill.as_str()));
            }
        }
    }
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ticket::{TicketFields, requester};
    use kefu_server::common::Tier;

    fn ticket(category: &str, tags: &[&str], locale: &str) -> TicketRecord {
        let fields = TicketFields {
            subject: "s".into(),
            category: category.into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            ..TicketFields::default()
        };
        let mut requester = requester("c1", Tier::Standard);
        requester.locale = locale.into();
        TicketRecord::new("t1".into(), fields, requester, Channel::Email, 0)
    }

    fn rule(when: SkillCondition, skills: &[&str]) -> SkillRule {
        SkillRule {
            when,
            skills: skills.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn every_matching_rule_adds_its_skills_once() {
        let rules = [
            rule(SkillCondition::Category("billing".into()), &["billing"]),
            rule(SkillCondition::Locale("zh".into()), &["chinese"]),
            rule(SkillCondition::Tag("vip".into()), &["billing", "vip"]),
            rule(SkillCondition::Type(TicketType::Complaint), &["complaints"]),
            rule(SkillCondition::Channel(Channel::Phone), &["phone"]),
        ];
        let t = ticket("billing/refund", &["vip"], "zh-CN");
        assert_eq!(
            required_skills(&rules, &t),
            vec!["billing", "chinese", "vip"]
        );
        // `billings` is not under `billing`, `zhx` is not `zh`.
        let t = ticket("billings", &[], "zhx");
        assert!(required_skills(&rules, &t).is_empty());
        let mut t = ticket("", &[], "ZH-Hant-TW");
        t.channel = Channel::Phone;
        assert_eq!(required_skills(&rules, &t), vec!["chinese", "phone"]);
    }

    #[test]
    fn an_agent_needs_every_required_skill() {
        let held = vec!["billing".to_owned(), "chinese".to_owned()];
        assert!(holds_all(&held, &[]));
        assert!(holds_all(&held, &["chinese".to_owned()]));
        assert!(!holds_all(&held, &["chinese".to_owned(), "vip".to_owned()]));
    }

    #[test]
    fn rules_are_checked_against_the_skills_agents_hold() {
        let rules = [rule(SkillCondition::Tag("vip".into()), &["billing", "vip"])];
        let known = vec!["billing".to_owned()];
        assert_eq!(
            unknown_skills(&rules, &known, "group.skill_rules"),
            vec![("group.skill_rules[0].skills[1]".to_owned(), "vip")]
        );
        let mut v = Violations::new();
        assert_eq!(condition_value("tag", "VIP", "t", &mut v), "vip");
        assert_eq!(condition_value("locale", "zh-CN", "l", &mut v), "zh-cn");
        assert!(v.is_empty());
        condition_value("category", "", "c", &mut v);
        condition_value("locale", "", "l", &mut v);
        rule_skills(&[], "s", &mut v);
        assert_eq!(v.iter().count(), 3);
    }
}
