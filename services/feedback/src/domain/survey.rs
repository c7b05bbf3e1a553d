//! What a score means: ranges by survey kind, when a score asks for a follow-up, and where a
//! survey stands.

use std::ops::RangeInclusive;

use kefu_proto::feedback::v1 as pb;

use super::records::{CSAT, NPS, SurveyRecord};

/// Longest comment on a survey answer, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;
/// Most reason codes on one answer.
pub const MAX_REASON_CODES: usize = 10;

/// The scores a kind of survey accepts.
pub fn score_range(kind: i32) -> RangeInclusive<i32> {
    match kind {
        NPS => 0..=10,
        _ => 1..=5,
    }
}

/// Whether an answer asks for a follow-up: a CSAT of 1–2, an NPS detractor (0–6).
pub fn needs_follow_up(kind: i32, score: i32) -> bool {
    match kind {
        CSAT => score <= 2,
        NPS => score <= 6,
        _ => false,
    }
}

/// Where a survey stands at `now`.
pub fn state(survey: &SurveyRecord, now: i64) -> pb::SurveyState {
    if survey.answer.is_some() {
        pb::SurveyState::Responded
    } else if now >= survey.expire_time {
        pb::SurveyState::Expired
    } else {
        pb::SurveyState::Pending
    }
}

/// Why an answer cannot be taken now, if it cannot.
pub fn refuse_answer(survey: &SurveyRecord, now: i64) -> Option<String> {
    match state(survey, now) {
        pb::SurveyState::Responded => Some(format!(
            "surveys/{} was already answered; a survey takes one answer",
            survey.id
        )),
        pb::SurveyState::Expired => Some(format!(
            "surveys/{} expired and can no longer be answered",
            survey.id
        )),
        pb::SurveyState::Pending | pb::SurveyState::Unspecified => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::Answer;

    fn survey(kind: i32, expire_time: i64) -> SurveyRecord {
        SurveyRecord {
            id: "s1".into(),
            kind,
            origin: "o".into(),
            customer_id: "c".into(),
            ticket_id: None,
            assignee: String::new(),
            group_name: String::new(),
            channel: String::new(),
            ticket_type: String::new(),
            campaign_id: None,
            token: "t".into(),
            create_time: 0,
            expire_time,
            answer: None,
            anonymized: false,
            follow_up: None,
        }
    }

    #[test]
    fn low_scores_are_csat_one_two_and_nps_detractors() {
        assert!(needs_follow_up(CSAT, 1) && needs_follow_up(CSAT, 2));
        assert!(!needs_follow_up(CSAT, 3));
        assert!(needs_follow_up(NPS, 0) && needs_follow_up(NPS, 6));
        assert!(!needs_follow_up(NPS, 7));
        assert!(score_range(CSAT).contains(&5) && !score_range(CSAT).contains(&0));
        assert!(score_range(NPS).contains(&0) && !score_range(NPS).contains(&11));
    }

    #[test]
    fn a_survey_takes_one_answer_before_it_expires() {
        let mut s = survey(CSAT, 100);
        assert_eq!(refuse_answer(&s, 99), None);
        assert!(refuse_answer(&s, 100).is_some_and(|m| m.contains("expired")));
        s.answer = Some(Answer {
            score: 4,
            reason_codes: vec![],
            comment: String::new(),
            submit_time: 50,
        });
        assert!(refuse_answer(&s, 60).is_some_and(|m| m.contains("already answered")));
        assert_eq!(state(&s, 1_000), pb::SurveyState::Responded);
    }
}
