//! Rules for links between tickets: no self-links, no duplicate links, at most one parent, no
//! cycles in the parent/child tree, a bounded number of links per ticket.

use super::kinds::{LinkKind, TicketStatus};
use super::ticket::{TicketRecord, ticket_name};

/// Most links one ticket may have.
pub const MAX_LINKS: usize = 200;
/// Deepest parent/child tree.
pub const MAX_DEPTH: usize = 20;

/// What is known about the two tickets before linking `ticket` to `other`.
#[derive(Debug, Clone, Default)]
pub struct LinkFacts<'a> {
    /// `ticket`'s ancestors, nearest first.
    pub ancestors_of_ticket: &'a [String],
    /// `other`'s current parent.
    pub parent_of_other: Option<&'a str>,
    /// Whether the two are already linked in any way.
    pub already_linked: bool,
    /// Links each ticket has now.
    pub link_counts: (usize, usize),
}

/// Why a link is refused, as a message naming the rule; `Ok` when it may be made.
pub fn check_link(
    kind: LinkKind,
    ticket: &str,
    other: &str,
    facts: &LinkFacts<'_>,
) -> Result<(), String> {
    if ticket == other {
        return Err("a ticket cannot be linked to itself".to_owned());
    }
    if facts.already_linked {
        return Err(format!(
            "tickets/{ticket} and tickets/{other} are already linked"
        ));
    }
    if facts.link_counts.0 >= MAX_LINKS || facts.link_counts.1 >= MAX_LINKS {
        return Err(format!("a ticket may have at most {MAX_LINKS} links"));
    }
    match kind {
        LinkKind::Related => Ok(()),
        LinkKind::Child => {
            if let Some(parent) = facts.parent_of_other {
                return Err(format!(
                    "tickets/{other} already has a parent: tickets/{parent}"
                ));
            }
            if facts.ancestors_of_ticket.iter().any(|a| a == other) {
                return Err(format!(
                    "tickets/{other} is an ancestor of tickets/{ticket}: the link would make a cycle"
                ));
            }
            if facts.ancestors_of_ticket.len() + 1 >= MAX_DEPTH {
                return Err(format!(
                    "the parent/child tree may be at most {MAX_DEPTH} levels deep"
                ));
            }
            Ok(())
        }
        LinkKind::Parent => {
            Err("kind must be RELATED or CHILD (make the parent link from the parent)".to_owned())
        }
    }
}

/// Why `source` cannot be merged into `target`, if it cannot: neither may be CLOSED, and only a
/// requester's own tickets merge.
pub fn check_merge(source: &TicketRecord, target: &TicketRecord) -> Result<(), String> {
    for t in [source, target] {
        if t.status == TicketStatus::Closed {
            return Err(format!(
                "{} is CLOSED and cannot take part in a merge",
                ticket_name(&t.id)
            ));
        }
    }
    if source.requester_id != target.requester_id {
        return Err(format!(
            "{} and {} have different requesters: only a requester's own tickets merge",
            ticket_name(&source.id),
            ticket_name(&target.id)
        ));
    }
    Ok(())
}

/// The kind of the link stored the other way round: a parent's CHILD is the child's PARENT.
pub fn reverse(kind: LinkKind) -> LinkKind {
    match kind {
        LinkKind::Child => LinkKind::Parent,
        LinkKind::Parent => LinkKind::Child,
        LinkKind::Related => LinkKind::Related,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_second_parents_and_self_links_are_refused() {
        let none = LinkFacts::default();
        assert!(check_link(LinkKind::Related, "a", "b", &none).is_ok());
        assert!(check_link(LinkKind::Child, "a", "b", &none).is_ok());
        assert!(check_link(LinkKind::Related, "a", "a", &none).is_err());
        assert!(check_link(LinkKind::Parent, "a", "b", &none).is_err());
        let ancestors = vec!["p".to_owned(), "root".to_owned()];
        let below = LinkFacts {
            ancestors_of_ticket: &ancestors,
            ..LinkFacts::default()
        };
        let cycle = check_link(LinkKind::Child, "a", "root", &below);
        assert!(cycle.is_err_and(|m| m.contains("cycle")));
        let adopted = LinkFacts {
            parent_of_other: Some("p2"),
            ..LinkFacts::default()
        };
        assert!(check_link(LinkKind::Child, "a", "b", &adopted).is_err());
        assert!(
            check_link(LinkKind::Related, "a", "b", &adopted).is_ok(),
            "related links are free"
        );
        let twice = LinkFacts {
            already_linked: true,
            ..LinkFacts::default()
        };
        assert!(check_link(LinkKind::Related, "a", "b", &twice).is_err());
        let full = LinkFacts {
            link_counts: (MAX_LINKS, 0),
            ..LinkFacts::default()
        };
        assert!(check_link(LinkKind::Related, "a", "b", &full).is_err());
    }
}
