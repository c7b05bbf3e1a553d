//! SLA escalation: a policy's levels — a warning at a share of a target, then at and after its
//! breach — and what a level does to a ticket when it fires.

use kefu_server::Violations;

use super::kinds::{Priority, PrioritySource};
use super::ticket::TicketRecord;

/// Most levels in one policy.
pub const MAX_LEVELS: usize = 10;
/// Highest level, in percent of a target (ten targets' length).
pub const MAX_PERCENT: i32 = 1000;

/// One escalation level of an SLA policy. It fires once per ticket per target, when `percent`
/// of the target's counted time has passed while the target runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationLevel {
    /// Share of the target, in percent: 75 warns, 100 is the breach, 150 half a target past it.
    pub percent: u32,
    /// Raises the ticket's priority to this; never lowers it.
    pub raise_priority: Option<Priority>,
    /// Moves the ticket to this group (id).
    pub group_id: Option<String>,
    /// Reassigns the ticket to this agent (id).
    pub assignee_id: Option<String>,
    /// Tells the lead of the ticket's group (after the move).
    pub notify_lead: bool,
}

impl EscalationLevel {
    /// Whether firing changes who works the ticket (its routing locks are taken first).
    pub fn moves_ticket(&self) -> bool {
        self.group_id.is_some() || self.assignee_id.is_some()
    }
}

/// Checks the levels' percents — each violation on `sla_policy.escalation_levels[i].percent` —
/// and answers them as unsigned values (0 for a bad one).
pub fn check_percents(percents: &[i32], v: &mut Violations) -> Vec<u32> {
    if percents.len() > MAX_LEVELS {
        v.add(
            "sla_policy.escalation_levels",
            format!("at most {MAX_LEVELS} levels"),
        );
    }
    let mut seen = Vec::new();
    for (i, &percent) in percents.iter().enumerate() {
        let field = format!("sla_policy.escalation_levels[{i}].percent");
        match u32::try_from(percent) {
            Ok(p) if (1..=MAX_PERCENT).contains(&percent) && seen.contains(&p) => {
                v.add(field, format!("{p}% is already a level of this policy"));
            }
            Ok(p) if (1..=MAX_PERCENT).contains(&percent) => seen.push(p),
            _ => v.add(
                field,
                format!("must be 1 to {MAX_PERCENT} (percent of the target)"),
            ),
        }
    }
    percents
        .iter()
        .map(|p| u32::try_from(*p).unwrap_or(0))
        .collect()
}

/// What firing a level changed on a ticket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    /// The priority rose.
    pub priority: bool,
    /// The group changed.
    pub group: bool,
}

/// Applies `level`'s priority and group to `t` (the assignee, which needs the agent's record,
/// is the caller's): a priority only rises, and is then marked ESCALATION so the matrix leaves it.
pub fn apply(t: &mut TicketRecord, level: &EscalationLevel) -> Effects {
    let mut effects = Effects::default();
    if let Some(priority) = level.raise_priority
        && priority.number() > t.fields.priority.number()
    {
        t.fields.priority = priority;
        t.fields.priority_source = PrioritySource::Escalation;
        effects.priority = true;
    }
    if let Some(group_id) = &level.group_id
        && t.group_id.as_ref() != Some(group_id)
    {
        t.group_id = Some(group_id.clone());
        effects.group = true;
    }
    effects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ticket::{TicketFields, requester};
    use kefu_server::common::{Channel, Tier};

    fn ticket() -> TicketRecord {
        let fields = TicketFields {
            subject: "s".into(),
            ..TicketFields::default()
        };
        TicketRecord::new(
            "t1".into(),
            fields,
            requester("c1", Tier::Standard),
            Channel::Email,
            0,
        )
    }

    #[test]
    fn percents_are_checked_one_by_one_and_must_differ() {
        let mut v = Violations::new();
        assert_eq!(check_percents(&[75, 100, 150], &mut v), vec![75, 100, 150]);
        assert!(v.is_empty());
        check_percents(&[0, 75, 75, 1001, -5], &mut v);
        let fields: Vec<&str> = v.iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "sla_policy.escalation_levels[0].percent",
                "sla_policy.escalation_levels[2].percent",
                "sla_policy.escalation_levels[3].percent",
                "sla_policy.escalation_levels[4].percent",
            ]
        );
    }

    #[test]
    fn a_level_raises_priority_but_never_lowers_it_and_moves_the_group() {
        let mut t = ticket();
        t.fields.priority = Priority::High;
        let level = EscalationLevel {
            percent: 100,
            raise_priority: Some(Priority::Normal),
            group_id: Some("escalations".into()),
            assignee_id: None,
            notify_lead: false,
        };
        let effects = apply(&mut t, &level);
        assert_eq!(
            effects,
            Effects {
                priority: false,
                group: true
            }
        );
        assert_eq!(t.fields.priority, Priority::High);
        assert_eq!(t.group_id.as_deref(), Some("escalations"));
        let urgent = EscalationLevel {
            raise_priority: Some(Priority::Urgent),
            ..level
        };
        assert!(apply(&mut t, &urgent).priority);
        assert_eq!(t.fields.priority_source, PrioritySource::Escalation);
        assert_eq!(
            apply(&mut t, &urgent),
            Effects::default(),
            "nothing left to do"
        );
    }
}
