//! Macros: bundles of actions an agent applies to tickets as themselves; who may see and keep
//! each one, and what applying one would change on a ticket.

use kefu_principal::{Principal, Role};
use serde::{Deserialize, Serialize};

use super::evaluate::TicketFacts;
use super::trigger::{Action, SetTarget};

/// Who sees and applies a macro (numbers are the contract's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Visibility {
    /// Every agent and integration; kept by admins.
    Shared,
    /// Its owner only (and admins).
    Personal,
}

impl Visibility {
    /// The contract's enum number.
    pub fn number(self) -> i32 {
        match self {
            Self::Shared => 1,
            Self::Personal => 2,
        }
    }

    /// The visibility with the contract's enum number.
    pub fn from_number(number: i32) -> Option<Self> {
        [Self::Shared, Self::Personal]
            .into_iter()
            .find(|v| v.number() == number)
    }

    /// Its stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shared => "SHARED",
            Self::Personal => "PERSONAL",
        }
    }

    /// The visibility stored as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Shared, Self::Personal]
            .into_iter()
            .find(|v| v.as_str() == text)
    }
}

/// A macro as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroRecord {
    /// Its id.
    pub id: String,
    /// 1 to 200 characters.
    pub display_name: String,
    /// What it is for.
    pub description: String,
    /// Only active macros are applied.
    pub active: bool,
    /// Who sees it.
    pub visibility: Visibility,
    /// The principal id of its creator.
    pub owner: String,
    /// What it does, in order; reply bodies are templates.
    pub actions: Vec<Action>,
    /// Tickets it was applied to.
    pub usage_count: i64,
    /// When it was last applied, microseconds.
    pub last_used_time: Option<i64>,
    /// Microseconds.
    pub create_time: i64,
    /// Microseconds.
    pub update_time: i64,
    /// Starts at 1.
    pub version: i64,
}

impl MacroRecord {
    /// `macros/{id}`.
    pub fn name(&self) -> String {
        format!("macros/{}", self.id)
    }
}

/// Whether `principal` may see (and so preview and apply) `m`. Someone else's personal macro is
/// hidden, not forbidden: its existence is not theirs to learn.
pub fn may_see(principal: &Principal, m: &MacroRecord) -> bool {
    match principal.role {
        Role::Admin => true,
        Role::Agent => m.visibility == Visibility::Shared || m.owner == principal.id,
        Role::Integration => m.visibility == Visibility::Shared,
        Role::Customer => false,
    }
}

/// Whether `principal` may create, change or delete a macro of `visibility` owned by `owner`.
pub fn may_keep(principal: &Principal, visibility: Visibility, owner: &str) -> bool {
    match (principal.role, visibility) {
        (Role::Admin, _) => true,
        (Role::Agent, Visibility::Personal) => owner == principal.id,
        (Role::Agent, Visibility::Shared) | (Role::Integration | Role::Customer, _) => false,
    }
}

/// Whose macros a principal sees in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every macro (admins).
    All,
    /// Shared macros and those this principal id owns (agents).
    SharedAndOwnedBy(String),
    /// Shared macros only (integrations).
    SharedOnly,
}

/// The macros `principal` sees (a customer sees none: refused before listing).
pub fn scope_of(principal: &Principal) -> Scope {
    match principal.role {
        Role::Admin => Scope::All,
        Role::Agent => Scope::SharedAndOwnedBy(principal.id.clone()),
        Role::Integration | Role::Customer => Scope::SharedOnly,
    }
}

/// One change applying a macro would make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The contract's field path, or `comment` / `internal_note`.
    pub field: String,
    /// The value now.
    pub before: String,
    /// The value after.
    pub after: String,
}

/// What `actions` (rendered) would change on `ticket`, in order; an action the ticket already
/// satisfies changes nothing and is left out.
pub fn changes(ticket: &TicketFacts, actions: &[Action]) -> Vec<Change> {
    let mut ticket = ticket.clone();
    let mut changes = Vec::new();
    for action in actions {
        let (field, before, after) = match action {
            Action::Reply { body, public } => {
                let field = if *public { "comment" } else { "internal_note" };
                (field.to_owned(), String::new(), body.clone())
            }
            Action::FollowUp { subject, .. } => {
                ("follow_up".to_owned(), String::new(), subject.clone())
            }
            // Macros refuse it; a preview has nothing of the ticket's to show for it.
            Action::UpdateRequester(_) | Action::ApplyMacro(_) => continue,
            Action::AddTags(tags) | Action::RemoveTags(tags) => {
                let before = ticket.tags.join(",");
                if matches!(action, Action::AddTags(_)) {
                    for tag in tags {
                        if !ticket.tags.contains(tag) {
                            ticket.tags.push(tag.clone());
                        }
                    }
                } else {
                    ticket.tags.retain(|t| !tags.contains(t));
                }
                ("tags".to_owned(), before, ticket.tags.join(","))
            }
            Action::SetField { target, value } => {
                let slot = match target {
                    SetTarget::Priority => &mut ticket.priority,
                    SetTarget::Type => &mut ticket.ticket_type,
                    SetTarget::Category => &mut ticket.category,
                    SetTarget::Group => &mut ticket.group,
                    SetTarget::Assignee => &mut ticket.assignee,
                    SetTarget::Status => &mut ticket.status,
                    SetTarget::CustomField(key) => {
                        ticket.custom_fields.entry(key.clone()).or_default()
                    }
                };
                let before = std::mem::replace(slot, value.clone());
                (target.field().path(), before, value.clone())
            }
        };
        let adds = matches!(action, Action::Reply { .. } | Action::FollowUp { .. });
        if before != after || adds {
            changes.push(Change {
                field,
                before,
                after,
            });
        }
    }
    changes
}

/// The macros a rule's actions apply, by id, each once.
pub fn applied_macros(actions: &[Action]) -> Vec<&str> {
    let mut ids: Vec<&str> = Vec::new();
    for action in actions {
        if let Action::ApplyMacro(id) = action
            && !ids.contains(&id.as_str())
        {
            ids.push(id);
        }
    }
    ids
}

/// `actions` with each macro they apply replaced by its actions, in its place, from `macros`
/// (those found); or why they cannot be applied: a macro gone, inactive or personal.
pub fn expand(actions: &[Action], macros: &[MacroRecord]) -> Result<Vec<Action>, String> {
    let mut expanded = Vec::with_capacity(actions.len());
    for action in actions {
        let Action::ApplyMacro(id) = action else {
            expanded.push(action.clone());
            continue;
        };
        let Some(m) = macros.iter().find(|m| m.id == *id) else {
            return Err(format!("macros/{id} is gone"));
        };
        if m.visibility != Visibility::Shared {
            return Err(format!(
                "macros/{id} is personal: a rule applies shared macros"
            ));
        }
        if !m.active {
            return Err(format!("macros/{id} is not active"));
        }
        expanded.extend(m.actions.iter().cloned());
    }
    Ok(expanded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(visibility: Visibility, owner: &str) -> MacroRecord {
        MacroRecord {
            id: "m1".into(),
            display_name: "Refund".into(),
            description: String::new(),
            active: true,
            visibility,
            owner: owner.into(),
            actions: Vec::new(),
            usage_count: 0,
            last_used_time: None,
            create_time: 0,
            update_time: 0,
            version: 1,
        }
    }

    #[test]
    fn a_rule_applies_shared_active_macros_in_place_and_names_what_it_cannot_apply() {
        let mut refund = record(Visibility::Shared, "boss");
        refund.actions = vec![
            Action::Reply {
                body: "Refunded".into(),
                public: true,
            },
            Action::AddTags(vec!["refund".into()]),
        ];
        let rule = [
            Action::AddTags(vec!["first".into()]),
            Action::ApplyMacro("m1".into()),
            Action::RemoveTags(vec!["last".into()]),
            Action::ApplyMacro("m1".into()),
        ];
        assert_eq!(applied_macros(&rule), ["m1"]);
        let expanded = expand(&rule, std::slice::from_ref(&refund)).unwrap_or_default();
        assert_eq!(expanded.len(), 6);
        assert_eq!(expanded[0], rule[0]);
        assert_eq!(expanded[1..3], refund.actions[..]);
        assert_eq!(expanded[3], rule[2]);
        assert_eq!(expanded[4..], refund.actions[..]);

        assert_eq!(
            expand(&rule, &[]).err().unwrap_or_default(),
            "macros/m1 is gone"
        );
        let mut inactive = refund.clone();
        inactive.active = false;
        assert_eq!(
            expand(&rule, &[inactive]).err().unwrap_or_default(),
            "macros/m1 is not active"
        );
        let mut personal = refund;
        personal.visibility = Visibility::Personal;
        assert!(
            expand(&rule, &[personal])
                .err()
                .unwrap_or_default()
                .contains("personal")
        );
    }

    #[test]
    fn personal_macros_are_their_owners_and_shared_ones_are_kept_by_admins() {
        let agent = Principal::new("a1", Role::Agent);
        let other = Principal::new("a2", Role::Agent);
        let admin = Principal::new("boss", Role::Admin);
        let bot = Principal::new("bot", Role::Integration);
        let personal = record(Visibility::Personal, "a1");
        let shared = record(Visibility::Shared, "boss");
        assert!(may_see(&agent, &personal) && !may_see(&other, &personal));
        assert!(may_see(&admin, &personal) && !may_see(&bot, &personal));
        assert!(may_see(&other, &shared) && may_see(&bot, &shared));
        assert!(!may_see(&Principal::customer("c"), &shared));
        assert!(may_keep(&agent, Visibility::Personal, "a1"));
        assert!(!may_keep(&other, Visibility::Personal, "a1"));
        assert!(!may_keep(&agent, Visibility::Shared, "a1"));
        assert!(may_keep(&admin, Visibility::Shared, "boss"));
        assert!(!may_keep(&bot, Visibility::Personal, "bot"));
    }

    #[test]
    fn changes_list_what_differs_in_order_and_skip_what_already_holds() {
        let ticket = TicketFacts {
            status: "OPEN".into(),
            priority: "NORMAL".into(),
            tags: vec!["billing".into()],
            ..Default::default()
        };
        let actions = vec![
            Action::SetField {
                target: SetTarget::Priority,
                value: "NORMAL".into(),
            },
            Action::AddTags(vec!["refund".into(), "billing".into()]),
            Action::Reply {
                body: "Refund issued".into(),
                public: true,
            },
            Action::SetField {
                target: SetTarget::Status,
                value: "SOLVED".into(),
            },
            Action::RemoveTags(vec!["vip".into()]),
        ];
        let got = changes(&ticket, &actions);
        let fields: Vec<(&str, &str, &str)> = got
            .iter()
            .map(|c| (c.field.as_str(), c.before.as_str(), c.after.as_str()))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("tags", "billing", "billing,refund"),
                ("comment", "", "Refund issued"),
                ("status", "OPEN", "SOLVED"),
            ]
        );
    }
}
