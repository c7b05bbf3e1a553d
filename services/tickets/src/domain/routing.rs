//! Routing: which agent of a group a new or waiting ticket goes to.
//!
//! An agent's load is the number of their tickets whose SLA clock runs (NEW and OPEN): a ticket
//! waiting on the requester or a third party does not keep them from taking another, as in
//! Freshdesk's load-balanced routing.

use crate::domain::kinds::{Availability, RoutingMethod, TicketStatus};
use crate::domain::skills;

/// The statuses that count towards an agent's load.
pub const COUNTED: [TicketStatus; 2] = [TicketStatus::New, TicketStatus::Open];

/// An active member of the group, as routing sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Agent id.
    pub id: String,
    /// Tickets of theirs in a [`COUNTED`] status.
    pub load: i64,
    /// Most tickets in progress at once; 0 = unlimited.
    pub capacity: i32,
    /// Whether they take routed tickets now.
    pub availability: Availability,
    /// Skills they hold.
    pub skills: Vec<String>,
}

impl Candidate {
    /// Whether this agent takes one more routed ticket now.
    pub fn has_room(&self) -> bool {
        self.availability == Availability::Online
            && (self.capacity == 0 || self.load < i64::from(self.capacity))
    }
}

/// The agent a ticket goes to under `method`, or `None` when it waits in the group's queue.
/// `last` is the agent the group routed to last: turns go in agent-id order, starting after them,
/// so no agent is skipped while another gets two. `required` are the ticket's skills, which only
/// skills-based routing asks for.
pub fn choose<'a>(
    method: RoutingMethod,
    candidates: &'a [Candidate],
    last: Option<&str>,
    required: &[String],
) -> Option<&'a Candidate> {
    let skilled = |c: &&Candidate| {
        method != RoutingMethod::SkillsBased || skills::holds_all(&c.skills, required)
    };
    let mut in_turn: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.has_room())
        .filter(skilled)
        .collect();
    in_turn.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(last) = last {
        // Those after the last one first, then from the start.
        let split = in_turn.partition_point(|c| c.id.as_str() <= last);
        in_turn.rotate_left(split);
    }
    match method {
        RoutingMethod::Manual => None,
        RoutingMethod::RoundRobin => in_turn.first().copied(),
        // `min_by_key` keeps the first of equals, so ties go in turn.
        RoutingMethod::LeastLoaded | RoutingMethod::SkillsBased => {
            in_turn.into_iter().min_by_key(|c| c.load)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, load: i64, capacity: i32) -> Candidate {
        Candidate {
            id: id.into(),
            load,
            capacity,
            availability: Availability::Online,
            skills: Vec::new(),
        }
    }

    fn chosen(method: RoutingMethod, team: &[Candidate], last: Option<&str>) -> Option<String> {
        choose(method, team, last, &[]).map(|c| c.id.clone())
    }

    #[test]
    fn round_robin_takes_turns_in_id_order_and_wraps() {
        let team = [agent("c", 0, 0), agent("a", 0, 0), agent("b", 0, 0)];
        let rr = RoutingMethod::RoundRobin;
        assert_eq!(chosen(rr, &team, None).as_deref(), Some("a"));
        assert_eq!(chosen(rr, &team, Some("a")).as_deref(), Some("b"));
        assert_eq!(chosen(rr, &team, Some("b")).as_deref(), Some("c"));
        assert_eq!(chosen(rr, &team, Some("c")).as_deref(), Some("a"));
        // The last one left the group: the turn goes to whoever follows them.
        assert_eq!(chosen(rr, &team, Some("bb")).as_deref(), Some("c"));
    }

    #[test]
    fn full_and_unavailable_agents_are_passed_over() {
        let mut away = agent("b", 0, 0);
        away.availability = Availability::Away;
        let team = [agent("a", 3, 3), away, agent("c", 2, 3)];
        let rr = RoutingMethod::RoundRobin;
        assert_eq!(chosen(rr, &team, None).as_deref(), Some("c"));
        let full = [agent("a", 3, 3), agent("c", 3, 3)];
        assert_eq!(chosen(rr, &full, None), None);
        assert_eq!(chosen(RoutingMethod::LeastLoaded, &full, None), None);
        assert_eq!(chosen(RoutingMethod::Manual, &team, None), None);
    }

    #[test]
    fn least_loaded_picks_the_lightest_and_breaks_ties_in_turn() {
        let team = [agent("a", 2, 0), agent("b", 1, 0), agent("c", 1, 0)];
        let ll = RoutingMethod::LeastLoaded;
        assert_eq!(chosen(ll, &team, None).as_deref(), Some("b"));
        assert_eq!(chosen(ll, &team, Some("b")).as_deref(), Some("c"));
        assert_eq!(chosen(ll, &team, Some("c")).as_deref(), Some("b"));
    }

    #[test]
    fn skills_based_takes_only_agents_with_every_skill_least_loaded_first() {
        let skilled = |id: &str, load: i64, skills: &[&str]| Candidate {
            skills: skills.iter().map(|s| (*s).to_owned()).collect(),
            ..agent(id, load, 0)
        };
        let team = [
            skilled("a", 0, &["billing"]),
            skilled("b", 2, &["billing", "chinese"]),
            skilled("c", 1, &["billing", "chinese"]),
        ];
        let sb = RoutingMethod::SkillsBased;
        let need = |skills: &[&str]| skills.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let pick = |required: &[String]| choose(sb, &team, None, required).map(|c| c.id.clone());
        assert_eq!(pick(&need(&[])).as_deref(), Some("a"));
        assert_eq!(pick(&need(&["chinese"])).as_deref(), Some("c"));
        assert_eq!(pick(&need(&["billing", "chinese"])).as_deref(), Some("c"));
        assert_eq!(pick(&need(&["vip"])), None);
        // Other methods ignore skills.
        let ll = choose(RoutingMethod::LeastLoaded, &team, None, &need(&["vip"]));
        assert_eq!(ll.map(|c| c.id.as_str()), Some("a"));
    }
}
