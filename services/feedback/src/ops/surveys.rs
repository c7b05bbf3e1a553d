//! Surveys: a customer's answer, and reading surveys back.

use kefu_db::idempotency::Replay;
use kefu_proto::feedback::v1 as pb;
use kefu_server::{ServiceError, Violations};

use super::{Actor, EventDraft, Feedback, new_id};
use crate::domain::follow_up;
use crate::domain::kinds::FollowUpState;
use crate::domain::records::{Answer, FollowUpRecord, SurveyRecord};
use crate::domain::survey::{check_score, needs_follow_up, refuse_answer};
use crate::store::{self, SurveyFilter};

/// A survey answer as the caller sent it, validated except against the survey's kind.
#[derive(Debug, Clone)]
pub struct NewAnswer {
    /// The survey's single-use token.
    pub token: String,
    /// Score.
    pub score: i32,
    /// Reason codes.
    pub reason_codes: Vec<String>,
    /// Comment.
    pub comment: String,
}

impl Feedback {
    /// Answers the survey holding the token: once, before it expires, within its kind's range.
    /// A low score queues a follow-up ticket in the same transaction.
    pub async fn submit_response<A: prost::Message + Default>(
        &self,
        actor: &Actor,
        answer: NewAnswer,
        replay: &Replay<SurveyRecord, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        // The token, not the survey's name, is what the caller knows before the lookup.
        if let Some(answer) = replay.earlier(&mut tx, "surveys", self.ctx.now()).await? {
            return Ok(answer);
        }
        let now = self.ctx.now();
        let survey = store::survey_by_token(&mut tx, &answer.token)
            .await?
            .filter(|s| actor.sees(&s.customer_id))
            .ok_or_else(|| ServiceError::NotFound("a survey with this token".to_owned()))?;
        if let Err(why) = check_score(survey.kind, answer.score) {
            let mut v = Violations::new();
            v.add("response.score", why);
            return Err(v.into());
        }
        let name = format!("surveys/{}", survey.id);
        if let Some(reason) = refuse_answer(&survey, now) {
            return Err(ServiceError::FailedPrecondition(reason));
        }
        let answer = Answer {
            score: answer.score,
            reason_codes: answer.reason_codes,
            comment: answer.comment,
            submit_time: now,
        };
        let follow_up = needs_follow_up(survey.kind, answer.score).then(|| FollowUpRecord {
            id: new_id(),
            source: name.clone(),
            request: follow_up::for_low_score(&survey, &answer, self.follow_up_type),
            state: FollowUpState::Pending,
            ticket: None,
            failure: String::new(),
            attempts: 0,
            next_attempt_time: now,
        });
        if let Some(f) = &follow_up {
            store::insert_follow_up(&mut tx, f, now).await?;
        }
        let follow_up_id = follow_up.as_ref().map(|f| f.id.as_str());
        if !store::record_answer(&mut tx, &survey.id, &answer, follow_up_id).await? {
            return Err(ServiceError::FailedPrecondition(format!(
                "{name} was already answered; a survey takes one answer"
            )));
        }
        let mut draft = EventDraft::new(
            pb::EventType::SurveyResponded,
            name.clone(),
            &survey.customer_id,
            survey.kind.name(),
        );
        draft.ticket = survey.ticket_id.as_ref().map(|t| format!("tickets/{t}"));
        draft.score = answer.score;
        draft.emit(&mut tx, &actor.id, now).await?;
        let updated = store::get_survey(&mut tx, &survey.id)
            .await?
            .ok_or(ServiceError::NotFound(name))?;
        let answer = replay.answer(&mut tx, &updated).await?;
        tx.commit().await?;
        if follow_up.is_some() {
            self.follow_up_queued.notify_one();
        }
        Ok(answer)
    }

    /// A survey the actor may see.
    pub async fn get_survey(&self, actor: &Actor, id: &str) -> Result<SurveyRecord, ServiceError> {
        let scope = self.scope(actor).await?;
        let mut conn = self.ctx.db.read().await?;
        store::get_survey(&mut conn, id)
            .await?
            .filter(|s| actor.sees(&s.customer_id) && scope.sees(s.ticket_seen()))
            .ok_or_else(|| ServiceError::NotFound(format!("surveys/{id}")))
    }

    /// A page of surveys (a customer's own only, for a customer; those of tickets in scope, for
    /// an agent).
    pub async fn list_surveys(
        &self,
        actor: &Actor,
        mut filter: SurveyFilter,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<SurveyRecord>, ServiceError> {
        if let Some(own) = &actor.customer_id {
            filter.customer_id = Some(own.clone());
        }
        filter.scope = self.scope(actor).await?;
        let mut conn = self.ctx.db.read().await?;
        Ok(store::list_surveys(&mut conn, &filter, after, limit).await?)
    }
}
