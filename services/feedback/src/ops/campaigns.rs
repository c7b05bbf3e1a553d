//! NPS campaigns: one survey for every customer of a segment.

use kefu_db::idempotency::RequestKey;
use kefu_server::ServiceError;
use kefu_server::outgoing::Caller;

use super::{Actor, Feedback, new_id};
use crate::domain::kinds::SurveyKind;
use crate::domain::records::{CampaignRecord, SegmentRecord};
use crate::{remote, store};

/// CreateNpsCampaign, validated.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    /// Name people see.
    pub display_name: String,
    /// Who is asked.
    pub segment: SegmentRecord,
    /// The request id, if the caller sent one.
    pub request: Option<RequestKey>,
    /// Who asked, for reading the segment on their behalf.
    pub caller: Caller,
}

impl Feedback {
    /// Creates a campaign and one NPS survey per customer of its segment (read from the
    /// customers service as the caller), in one transaction; a retry gets the first campaign
    /// without asking the customers service again.
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        command: NewCampaign,
    ) -> Result<CampaignRecord, ServiceError> {
        if let Some(request) = &command.request {
            let mut conn = self.ctx.db.read().await?;
            if let Some(existing) = request.replay(&mut conn).await? {
                return load_campaign(&mut conn, existing.trim_start_matches("npsCampaigns/"))
                    .await;
            }
        }
        let customer_ids =
            remote::customers::segment(&self.customers, &command.caller, &command.segment).await?;
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        let id = new_id();
        if let Some(request) = &command.request
            && let Some(existing) = request
                .claim(&mut tx, &format!("npsCampaigns/{id}"), now)
                .await?
        {
            return load_campaign(&mut tx, existing.trim_start_matches("npsCampaigns/")).await;
        }
        let mut campaign = CampaignRecord {
            id: id.clone(),
            display_name: command.display_name,
            segment: command.segment,
            survey_count: 0,
            creator: actor.id.clone(),
            create_time: now,
        };
        store::insert_campaign(&mut tx, &campaign).await?;
        for customer_id in &customer_ids {
            let origin = format!("npsCampaigns/{id}/customers/{customer_id}");
            let mut survey = self.new_survey(SurveyKind::Nps, origin, customer_id, now);
            survey.campaign_id = Some(id.clone());
            if self.create_survey(&mut tx, &survey, now).await? {
                campaign.survey_count += 1;
            }
        }
        store::set_survey_count(&mut tx, &id, campaign.survey_count).await?;
        tx.commit().await?;
        Ok(campaign)
    }

    /// A campaign by id.
    pub async fn get_campaign(&self, id: &str) -> Result<CampaignRecord, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        load_campaign(&mut conn, id).await
    }
}

async fn load_campaign(
    conn: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<CampaignRecord, ServiceError> {
    store::get_campaign(conn, id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("npsCampaigns/{id}")))
}
