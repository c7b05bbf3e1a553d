//! The service's records as the store reads and writes them.

use kefu_server::common::{Channel, LifecycleStage, Tier};
use serde::{Deserialize, Serialize};

use super::access::TicketSeen;
use super::kinds::{FeedbackKind, FeedbackState, FollowUpState, SurveyKind};

/// A survey row.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyRecord {
    /// Id.
    pub id: String,
    /// What it measures.
    pub kind: SurveyKind,
    /// What created it; one survey per origin (a ticket event, a campaign and customer).
    pub origin: String,
    /// The customer asked.
    pub customer_id: String,
    /// For CSAT: the ticket.
    pub ticket_id: Option<String>,
    /// For CSAT: `agents/{id}` who solved it, or "".
    pub assignee: String,
    /// For CSAT: `groups/{id}`, or "".
    pub group_name: String,
    /// For CSAT: where the ticket came in.
    pub channel: Option<Channel>,
    /// For CSAT: the tickets service's name of the ticket's type, like `TICKET_TYPE_QUESTION`.
    pub ticket_type: String,
    /// For NPS: the campaign.
    pub campaign_id: Option<String>,
    /// The single-use secret that answers it.
    pub token: String,
    /// Created, UTC µs.
    pub create_time: i64,
    /// Answerable until, UTC µs.
    pub expire_time: i64,
    /// The answer.
    pub answer: Option<Answer>,
    /// True once the customer was erased.
    pub anonymized: bool,
    /// The follow-up a low score opened.
    pub follow_up: Option<FollowUpRecord>,
}

impl SurveyRecord {
    /// The ticket as the survey saw it at the solve; `None` for a survey about no ticket.
    pub fn ticket_seen(&self) -> Option<TicketSeen<'_>> {
        self.ticket_id.as_ref().map(|_| TicketSeen {
            assignee: &self.assignee,
            group: &self.group_name,
        })
    }
}

/// A customer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The score, in the kind's range.
    pub score: i32,
    /// Reason codes.
    pub reason_codes: Vec<String>,
    /// Free text.
    pub comment: String,
    /// Submitted, UTC µs.
    pub submit_time: i64,
}

/// A ticket to open in the tickets service, kept until it is opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRequest {
    /// Subject line.
    pub subject: String,
    /// Description.
    pub description: String,
    /// Customer id of the requester.
    pub requester: String,
    /// `kefu.common.v1.Channel` number.
    pub channel: i32,
    /// The tickets service's type label, like `COMPLAINT` ([`super::follow_up::ticket_terms`]).
    pub ticket_type: String,
    /// The tickets service's priority label, like `HIGH`.
    pub priority: String,
    /// `groups/{id}` to put it in, or "".
    pub group: String,
    /// Ticket id it follows up on, or "".
    pub follow_up_of: String,
    /// Tags.
    pub tags: Vec<String>,
}

/// A follow-up row: the queue entry for one ticket to open.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpRecord {
    /// Id; also the request id sent to CreateTicket.
    pub id: String,
    /// `surveys/{id}` or `feedback/{id}`.
    pub source: String,
    /// The ticket to open.
    pub request: TicketRequest,
    /// Where it stands.
    pub state: FollowUpState,
    /// `tickets/{id}` once opened.
    pub ticket: Option<String>,
    /// Why it failed for good.
    pub failure: String,
    /// Calls tried so far.
    pub attempts: i64,
    /// Not before, UTC µs.
    pub next_attempt_time: i64,
}

/// A feedback entry row.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackRecord {
    /// Id.
    pub id: String,
    /// What kind.
    pub kind: FeedbackKind,
    /// The customer it comes from.
    pub customer_id: String,
    /// What the customer wrote.
    pub body: String,
    /// Where it was sent.
    pub channel: Channel,
    /// The ticket it is about.
    pub ticket_id: Option<String>,
    /// That ticket's `agents/{id}` when the entry was sent, or "".
    pub ticket_assignee: String,
    /// That ticket's `groups/{id}` when the entry was sent, or "".
    pub ticket_group: String,
    /// Where its handling stands.
    pub state: FeedbackState,
    /// When the complaint's ticket was solved.
    pub resolve_time: Option<i64>,
    /// True once the customer was erased.
    pub anonymized: bool,
    /// For complaints: the ticket opened for it.
    pub follow_up: Option<FollowUpRecord>,
    /// Created, UTC µs.
    pub create_time: i64,
    /// Last changed, UTC µs.
    pub update_time: i64,
}

impl FeedbackRecord {
    /// The ticket as the entry saw it when sent; `None` for an entry about no ticket.
    pub fn ticket_seen(&self) -> Option<TicketSeen<'_>> {
        self.ticket_id.as_ref().map(|_| TicketSeen {
            assignee: &self.ticket_assignee,
            group: &self.ticket_group,
        })
    }
}

/// Who an NPS campaign asks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SegmentRecord {
    /// Listed customer ids.
    pub customers: Vec<String>,
    /// Tag filter.
    pub tag: String,
    /// Tier filter.
    pub tier: Option<Tier>,
    /// Lifecycle stage filter.
    pub lifecycle_stage: Option<LifecycleStage>,
    /// Organization id.
    pub organization: String,
}

/// An NPS campaign row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignRecord {
    /// Id.
    pub id: String,
    /// Name people see.
    pub display_name: String,
    /// Who is asked.
    pub segment: SegmentRecord,
    /// Surveys created.
    pub survey_count: i64,
    /// Principal id that created it.
    pub creator: String,
    /// Created, UTC µs.
    pub create_time: i64,
}
