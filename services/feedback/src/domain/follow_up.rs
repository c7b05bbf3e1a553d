//! What the tickets the service opens say, and what a complaint's ticket means for the complaint.

use kefu_server::common::Channel;

use super::kinds::{FeedbackState, SurveyKind};
use super::records::{Answer, FeedbackRecord, SurveyRecord, TicketRequest};

/// The tickets contract's labels (enum names without their prefix) for what the tickets this
/// service opens are: the one place feedback's rules name the tickets service's values.
pub mod ticket_terms {
    /// `TICKET_TYPE_TASK`: a low score's follow-up, by default.
    pub const TYPE_TASK: &str = "TASK";
    /// `TICKET_TYPE_COMPLAINT`: a complaint's ticket, and optionally a low score's.
    pub const TYPE_COMPLAINT: &str = "COMPLAINT";
    /// `TICKET_PRIORITY_HIGH`: an unhappy customer waits least.
    pub const PRIORITY_HIGH: &str = "HIGH";
    /// `TICKET_PRIORITY_NORMAL`.
    pub const PRIORITY_NORMAL: &str = "NORMAL";
    /// The statuses after which a complaint counts as resolved.
    pub const DONE_STATUSES: [&str; 2] = ["TICKET_STATUS_SOLVED", "TICKET_STATUS_CLOSED"];
}

/// Longest subject taken from a complaint's text, in characters.
const SUBJECT_CHARS: usize = 200;
/// Longest wait between two tries of a follow-up, in microseconds (5 minutes).
const MAX_RETRY_MICROS: i64 = 300 * 1_000_000;

/// The follow-up ticket for a low score. It names the survey instead of copying the comment, so
/// the customer's words stay in one place (and are anonymized there on erasure).
pub fn for_low_score(survey: &SurveyRecord, answer: &Answer, ticket_type: &str) -> TicketRequest {
    let reasons = if answer.reason_codes.is_empty() {
        String::new()
    } else {
        format!(" Reasons given: {}.", answer.reason_codes.join(", "))
    };
    let comment = if answer.comment.is_empty() {
        String::new()
    } else {
        format!(
            " The customer left a comment: read it on surveys/{}.",
            survey.id
        )
    };
    let (subject, description, group, follow_up_of, tag) = match (survey.kind, &survey.ticket_id) {
        (SurveyKind::Csat, Some(ticket)) => (
            format!("Follow up: CSAT {}/5 on tickets/{ticket}", answer.score),
            format!(
                "The customer rated the support on tickets/{ticket} {} of 5.{reasons}{comment} \
                 Contact the customer to make it right.",
                answer.score
            ),
            survey.group_name.clone(),
            ticket.clone(),
            "csat-follow-up",
        ),
        _ => (
            format!("Follow up: NPS {}/10 (detractor)", answer.score),
            format!(
                "The customer answered {} of 10 to how likely they are to recommend us.\
                 {reasons}{comment} Contact the customer to learn why.",
                answer.score
            ),
            String::new(),
            String::new(),
            "nps-follow-up",
        ),
    };
    TicketRequest {
        subject,
        description,
        requester: survey.customer_id.clone(),
        channel: Channel::Api.number(),
        ticket_type: ticket_type.to_owned(),
        priority: ticket_terms::PRIORITY_HIGH.to_owned(),
        group,
        follow_up_of,
        tags: vec![tag.to_owned()],
    }
}

/// The COMPLAINT ticket for a complaint: the complaint's text is what the team investigates.
pub fn for_complaint(entry: &FeedbackRecord) -> TicketRequest {
    let first_line = entry
        .body
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("");
    let mut subject: String = first_line.chars().take(SUBJECT_CHARS).collect();
    if first_line.chars().count() > SUBJECT_CHARS {
        subject.push('…');
    }
    TicketRequest {
        subject: format!("Complaint: {subject}"),
        description: entry.body.clone(),
        requester: entry.customer_id.clone(),
        channel: entry.channel.number(),
        ticket_type: ticket_terms::TYPE_COMPLAINT.to_owned(),
        priority: ticket_terms::PRIORITY_NORMAL.to_owned(),
        group: String::new(),
        follow_up_of: entry.ticket_id.clone().unwrap_or_default(),
        tags: vec!["complaint".to_owned()],
    }
}

/// What a complaint's state is when its ticket reaches `ticket_status` (the tickets contract's
/// enum name, as its events carry it).
pub fn complaint_state(ticket_status: &str) -> FeedbackState {
    if ticket_terms::DONE_STATUSES.contains(&ticket_status) {
        FeedbackState::Resolved
    } else {
        FeedbackState::InProgress
    }
}

/// How long to wait before try number `attempts + 1`: doubling from one second, at most 5 minutes.
pub fn retry_delay_micros(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    (1_000_000_i64 << exponent).min(MAX_RETRY_MICROS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kinds::FeedbackKind;

    fn survey(kind: SurveyKind) -> SurveyRecord {
        SurveyRecord {
            id: "s1".into(),
            kind,
            origin: "o".into(),
            customer_id: "c1".into(),
            ticket_id: (kind == SurveyKind::Csat).then(|| "t1".to_owned()),
            assignee: "agents/a1".into(),
            group_name: "groups/g1".into(),
            channel: Some(Channel::Email),
            ticket_type: "TICKET_TYPE_QUESTION".into(),
            campaign_id: None,
            token: "tok".into(),
            create_time: 0,
            expire_time: 10,
            answer: None,
            anonymized: false,
            follow_up: None,
        }
    }

    #[test]
    fn a_low_csat_follows_up_the_ticket_in_its_group_without_copying_the_comment() {
        let answer = Answer {
            score: 1,
            reason_codes: vec!["slow_response".into()],
            comment: "private words".into(),
            submit_time: 5,
        };
        let request = for_low_score(&survey(SurveyKind::Csat), &answer, ticket_terms::TYPE_TASK);
        assert_eq!(request.follow_up_of, "t1");
        assert_eq!(request.group, "groups/g1");
        assert_eq!(request.requester, "c1");
        assert_eq!(request.ticket_type, "TASK");
        assert_eq!(request.priority, "HIGH");
        assert!(request.description.contains("slow_response"));
        assert!(request.description.contains("surveys/s1"));
        assert!(!request.description.contains("private words"));
        let nps = for_low_score(
            &survey(SurveyKind::Nps),
            &answer,
            ticket_terms::TYPE_COMPLAINT,
        );
        assert!(nps.follow_up_of.is_empty() && nps.group.is_empty());
        assert!(nps.subject.contains("NPS 1/10"));
    }

    #[test]
    fn complaint_subjects_come_from_the_first_line() {
        let entry = FeedbackRecord {
            id: "f1".into(),
            kind: FeedbackKind::Complaint,
            customer_id: "c1".into(),
            body: "\n  The courier threw my parcel  \nDetails follow".into(),
            channel: Channel::Web,
            ticket_id: None,
            ticket_assignee: String::new(),
            ticket_group: String::new(),
            state: FeedbackState::InProgress,
            resolve_time: None,
            anonymized: false,
            follow_up: None,
            create_time: 0,
            update_time: 0,
        };
        let request = for_complaint(&entry);
        assert_eq!(request.subject, "Complaint: The courier threw my parcel");
        assert_eq!(request.channel, Channel::Web.number());
        assert_eq!(request.ticket_type, "COMPLAINT");
    }

    #[test]
    fn solved_or_closed_tickets_resolve_complaints_and_retries_back_off() {
        assert_eq!(
            complaint_state("TICKET_STATUS_SOLVED"),
            FeedbackState::Resolved
        );
        assert_eq!(
            complaint_state("TICKET_STATUS_CLOSED"),
            FeedbackState::Resolved
        );
        assert_eq!(
            complaint_state("TICKET_STATUS_OPEN"),
            FeedbackState::InProgress
        );
        assert_eq!(retry_delay_micros(0), 1_000_000);
        assert_eq!(retry_delay_micros(3), 8_000_000);
        assert_eq!(retry_delay_micros(60), MAX_RETRY_MICROS);
    }
}
