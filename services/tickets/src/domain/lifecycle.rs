//! The ticket state machine: which status each lifecycle method and each reply leads to, and
//! which moves are refused. The table in `ticket_service.proto` is this module in prose.

use kefu_proto::tickets::v1::TicketStatus;

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

/// The short name of a status as people say it (`PENDING`).
pub fn status_label(status: TicketStatus) -> &'static str {
    status
        .as_str_name()
        .strip_prefix("TICKET_STATUS_")
        .unwrap_or("UNSPECIFIED")
}

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
            status_label(current),
            action.verb()
        ))
    };
    let next = match (current, action) {
        (Closed | TicketStatus::Unspecified, _) => return Err(refused()),
        (New, Move::Assign) => Open,
        (status, Move::Assign) => status,
        (New | Open | OnHold, Move::Pend) => Pending,
        (New | Open | Pending, Move::Hold) => OnHold,
        (New | Open | Pending | OnHold, Move::Solve) => {
            if !has_assignee {
                return Err(Illegal(format!(
                    "a {} ticket needs an assignee before it can be solved",
                    status_label(current)
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
        (Closed | TicketStatus::Unspecified, _, _) => Err(Illegal(format!(
            "a {} ticket takes no comments: create a follow-up ticket instead",
            status_label(current)
        ))),
        (Pending | Solved, true, Replier::Requester) => Ok(Open),
        (New, true, Replier::Agent) => Ok(Open),
        (status, _, _) => Ok(status),
    }
}

/// Whether the SLA clock is stopped in `status`.
pub fn pauses_clock(status: TicketStatus) -> bool {
    matches!(
        status,
        TicketStatus::Pending | TicketStatus::OnHold | TicketStatus::Solved | TicketStatus::Closed
    )
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
                            message.contains(status_label(from)),
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
