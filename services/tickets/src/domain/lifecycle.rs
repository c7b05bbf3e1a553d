//! The ticket state machine: which status each lifecycle method and each reply leads to, and
//! which moves are refused. The table in `ticket_service.proto` is this module in prose.

use super::calendar::Clock;
use super::kinds::{AuthorKind, TicketStatus};
use super::ticket::TicketRecord;

/// A lifecycle method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// AssignTicket.
    Assign,
    /// SetTicketPending.
    Pend,
    /// SetTicketOnHold.
    Hold,
    /// SolveTicket.
    Solve,
    /// ReopenTicket.
    Reopen,
    /// CloseTicket (or the auto-close job).
    Close,
}

impl Move {
    fn verb(self) -> &'static str {
        match self {
            Move::Assign => "assigned",
            Move::Pend => "set pending",
            Move::Hold => "put on hold",
            Move::Solve => "solved",
            Move::Reopen => "reopened",
            Move::Close => "closed",
        }
    }
}

/// A refused move, with a message naming the current status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Illegal(pub String);

/// The status after `action` on a ticket in `current`; `has_assignee` after the move.
pub fn apply(
    current: TicketStatus,
    action: Move,
    has_assignee: bool,
) -> Result<TicketStatus, Illegal> {
    use TicketStatus::{Closed, New, OnHold, Open, Pending, Solved};
    let refused = || {
        Illegal(format!(
            "a {} ticket cannot be {}",
            current.label(),
            action.verb()
        ))
    };
    let next = match (current, action) {
        (Closed, _) => return Err(refused()),
        (New, Move::Assign) => Open,
        (status, Move::Assign) => status,
        (New | Open | OnHold, Move::Pend) => Pending,
        (New | Open | Pending, Move::Hold) => OnHold,
        (New | Open | Pending | OnHold, Move::Solve) => {
            if !has_assignee {
                return Err(Illegal(format!(
                    "a {} ticket needs an assignee before it can be solved",
                    current.label()
                )));
            }
            Solved
        }
        (Pending | OnHold | Solved, Move::Reopen) => Open,
        (Solved, Move::Close) => Closed,
        _ => return Err(refused()),
    };
    Ok(next)
}

/// Who wrote a public reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replier {
    /// An agent, admin or integration.
    Agent,
    /// The requester.
    Requester,
}

/// The status after a comment; CLOSED tickets take no comments.
pub fn after_comment(
    current: TicketStatus,
    public: bool,
    by: Replier,
) -> Result<TicketStatus, Illegal> {
    use TicketStatus::{Closed, New, Open, Pending, Solved};
    match (current, public, by) {
        (Closed, _, _) => Err(Illegal(format!(
            "a {} ticket takes no comments: create a follow-up ticket instead",
            current.label()
        ))),
        (Pending | Solved, true, Replier::Requester) => Ok(Open),
        (New, true, Replier::Agent) => Ok(Open),
        (status, _, _) => Ok(status),
    }
}

/// Takes a merged ticket back to where it was before the merge: not a move through the state
/// machine (a merge's CLOSED is the one reversible close), and not a new solve.
pub fn restore_after_unmerge(
    t: &mut TicketRecord,
    status: TicketStatus,
    solve_time: Option<i64>,
    now: i64,
    clock: &Clock,
) {
    t.status = status;
    t.close_time = None;
    t.solve_time = solve_time;
    t.merged_into = None;
    t.sla.set_paused(pauses_clock(status), now, clock);
}

/// Who a comment's author counts as: the requester, an integration (kefu or another system), or
/// an agent.
pub fn author_kind(by: Replier, integration: bool) -> AuthorKind {
    match (by, integration) {
        (Replier::Requester, _) => AuthorKind::Customer,
        (Replier::Agent, true) => AuthorKind::System,
        (Replier::Agent, false) => AuthorKind::Agent,
    }
}

/// What a public reply does beside the status: an agent's first one is the first response,
/// every agent reply counts and meets the reply targets, a requester's starts the next-response
/// clock. Internal notes do nothing here.
pub fn record_reply(t: &mut TicketRecord, public: bool, by: Replier, now: i64, clock: &Clock) {
    if !public {
        return;
    }
    match by {
        Replier::Agent => {
            if t.first_response_seconds.is_none() {
                t.first_response_seconds = Some(t.sla.counted(clock, t.create_time, now));
            }
            t.agent_replies += 1;
            t.sla.agent_replied(now, clock);
        }
        Replier::Requester => t.sla.requester_replied(now, clock),
    }
}

/// Whether the SLA clock is stopped in `status`.
pub fn pauses_clock(status: TicketStatus) -> bool {
    matches!(
        status,
        TicketStatus::Pending | TicketStatus::OnHold | TicketStatus::Solved | TicketStatus::Closed
    )
}

/// Moves `t` to `to` at `now`, with what a move does beside the status: the SLA clock pauses or
/// resumes, a solve meets the resolution target and records the solve time and resolution
/// seconds, a close records the close time, and a reopen counts and restarts the targets.
pub fn move_to(t: &mut TicketRecord, to: TicketStatus, now: i64, clock: &Clock) {
    let from = t.status;
    if from == to {
        return;
    }
    t.status = to;
    if to == TicketStatus::Solved {
        t.sla.solved(now, clock);
        t.solve_time = Some(now);
        t.resolution_seconds = Some(t.sla.counted(clock, t.create_time, now));
    }
    if to == TicketStatus::Closed {
        t.close_time = Some(now);
    }
    t.sla.set_paused(pauses_clock(to), now, clock);
    if from == TicketStatus::Solved && to == TicketStatus::Open {
        t.reopen_count += 1;
        t.solve_time = None;
        t.sla.reopened(clock);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use TicketStatus::{Closed, New, OnHold, Open, Pending, Solved};

    const ALL: [TicketStatus; 6] = [New, Open, Pending, OnHold, Solved, Closed];
    const MOVES: [Move; 6] = [
        Move::Assign,
        Move::Pend,
        Move::Hold,
        Move::Solve,
        Move::Reopen,
        Move::Close,
    ];

    /// The whole matrix, as in the proto's table (with an assignee present).
    fn expected(from: TicketStatus, action: Move) -> Option<TicketStatus> {
        let row = match from {
            New => [
                Some(Open),
                Some(Pending),
                Some(OnHold),
                Some(Solved),
                None,
                None,
            ],
            Open => [
                Some(Open),
                Some(Pending),
                Some(OnHold),
                Some(Solved),
                None,
                None,
            ],
            Pending => [
                Some(Pending),
                None,
                Some(OnHold),
                Some(Solved),
                Some(Open),
                None,
            ],
            OnHold => [
                Some(OnHold),
                Some(Pending),
                None,
                Some(Solved),
                Some(Open),
                None,
            ],
            Solved => [Some(Solved), None, None, None, Some(Open), Some(Closed)],
            _ => [None; 6],
        };
        let column = MOVES.iter().position(|m| *m == action).unwrap_or(0);
        row[column]
    }

    #[test]
    fn every_cell_of_the_transition_matrix() {
        for from in ALL {
            for action in MOVES {
                let got = apply(from, action, true);
                match expected(from, action) {
                    Some(to) => assert_eq!(got, Ok(to), "{from:?} {action:?}"),
                    None => {
                        let Err(Illegal(message)) = got else {
                            panic!("{from:?} {action:?} must be refused, got {got:?}");
                        };
                        assert!(
                            message.contains(from.label()),
                            "message names the current status: {message}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn solving_needs_an_assignee() {
        for from in [New, Open, Pending, OnHold] {
            let error = apply(from, Move::Solve, false).unwrap_err();
            assert!(error.0.contains("needs an assignee"), "{error}");
        }
    }

    #[test]
    fn replies_move_the_status() {
        assert_eq!(after_comment(Pending, true, Replier::Requester), Ok(Open));
        assert_eq!(after_comment(Solved, true, Replier::Requester), Ok(Open));
        assert_eq!(after_comment(OnHold, true, Replier::Requester), Ok(OnHold));
        assert_eq!(after_comment(New, true, Replier::Agent), Ok(Open));
        assert_eq!(
            after_comment(New, false, Replier::Agent),
            Ok(New),
            "a note opens nothing"
        );
        assert_eq!(after_comment(Solved, false, Replier::Agent), Ok(Solved));
        assert_eq!(after_comment(Pending, true, Replier::Agent), Ok(Pending));
        let closed = after_comment(Closed, true, Replier::Requester).unwrap_err();
        assert!(
            closed.0.contains("CLOSED") && closed.0.contains("follow-up"),
            "{closed}"
        );
    }

    #[test]
    fn paused_statuses() {
        let paused: Vec<_> = ALL.into_iter().filter(|s| pauses_clock(*s)).collect();
        assert_eq!(paused, vec![Pending, OnHold, Solved, Closed]);
    }
}
