//! What a score means: ranges by survey kind, when a score asks for a follow-up, and where a
//! survey stands.

use std::ops::RangeInclusive;

use super::kinds::{SurveyKind, SurveyState};
use super::records::SurveyRecord;

/// Longest comment on a survey answer, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;
/// Most reason codes on one answer.
pub const MAX_REASON_CODES: usize = 10;

/// The scores a kind of survey accepts.
pub fn score_range(kind: SurveyKind) -> RangeInclusive<i32> {
    match kind {
        SurveyKind::Nps => 0..=10,
        SurveyKind::Csat => 1..=5,
    }
}

/// Whether an answer asks for a follow-up: a CSAT of 1–2, an NPS detractor (0–6).
pub fn needs_follow_up(kind: SurveyKind, score: i32) -> bool {
    match kind {
        SurveyKind::Csat => score <= 2,
        SurveyKind::Nps => score <= 6,
    }
}

/// Why a score does not fit the survey, if it does not.
pub fn check_score(kind: SurveyKind, score: i32) -> Result<(), String> {
    let range = score_range(kind);
    if range.contains(&score) {
        Ok(())
    } else {
        Err(format!(
            "must be {} to {} for a {} survey",
            range.start(),
            range.end(),
            kind.label()
        ))
    }
}

/// Where a survey stands at `now`.
pub fn state(survey: &SurveyRecord, now: i64) -> SurveyState {
    if survey.answer.is_some() {
        SurveyState::Responded
    } else if now >= survey.expire_time {
        SurveyState::Expired
    } else {
        SurveyState::Pending
    }
}

/// Why an answer cannot be taken now, if it cannot.
pub fn refuse_answer(survey: &SurveyRecord, now: i64) -> Option<String> {
    match state(survey, now) {
        SurveyState::Responded => Some(format!(
            "surveys/{} was already answered; a survey takes one answer",
            survey.id
        )),
        SurveyState::Expired => Some(format!(
            "surveys/{} expired and can no longer be answered",
            survey.id
        )),
        SurveyState::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::Answer;

    fn survey(kind: SurveyKind, expire_time: i64) -> SurveyRecord {
        SurveyRecord {
            id: "s1".into(),
            kind,
            origin: "o".into(),
            customer_id: "c".into(),
            ticket_id: None,
            assignee: String::new(),
            group_name: String::new(),
            channel: None,
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
        use SurveyKind::{Csat, Nps};
        assert!(needs_follow_up(Csat, 1) && needs_follow_up(Csat, 2));
        assert!(!needs_follow_up(Csat, 3));
        assert!(needs_follow_up(Nps, 0) && needs_follow_up(Nps, 6));
        assert!(!needs_follow_up(Nps, 7));
        assert!(check_score(Csat, 5).is_ok() && check_score(Csat, 0).is_err());
        assert!(check_score(Nps, 0).is_ok());
        assert!(check_score(Nps, 11).is_err_and(|why| why.contains("0 to 10 for a NPS")));
    }

    #[test]
    fn a_survey_takes_one_answer_before_it_expires() {
        let mut s = survey(SurveyKind::Csat, 100);
        assert_eq!(refuse_answer(&s, 99), None);
        assert!(refuse_answer(&s, 100).is_some_and(|m| m.contains("expired")));
        s.answer = Some(Answer {
            score: 4,
            reason_codes: vec![],
            comment: String::new(),
            submit_time: 50,
        });
        assert!(refuse_answer(&s, 60).is_some_and(|m| m.contains("already answered")));
        assert_eq!(state(&s, 1_000), SurveyState::Responded);
    }
}
