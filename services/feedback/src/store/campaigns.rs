//! NPS campaigns.

use kefu_db::row::{self, json, json_text};
use kefu_server::common::{LifecycleStage, Tier};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use crate::domain::records::{CampaignRecord, SegmentRecord};

/// A segment as its JSON column holds it: enums as their numbers, 0 for none.
#[derive(Serialize, Deserialize)]
struct StoredSegment {
    customers: Vec<String>,
    tag: String,
    tier: i32,
    lifecycle_stage: i32,
    organization: String,
}

impl From<&SegmentRecord> for StoredSegment {
    fn from(s: &SegmentRecord) -> Self {
        Self {
            customers: s.customers.clone(),
            tag: s.tag.clone(),
            tier: s.tier.map_or(0, Tier::number),
            lifecycle_stage: s.lifecycle_stage.map_or(0, LifecycleStage::number),
            organization: s.organization.clone(),
        }
    }
}

impl From<StoredSegment> for SegmentRecord {
    fn from(s: StoredSegment) -> Self {
        Self {
            customers: s.customers,
            tag: s.tag,
            tier: Tier::from_number(s.tier),
            lifecycle_stage: LifecycleStage::from_number(s.lifecycle_stage),
            organization: s.organization,
        }
    }
}

/// Inserts a campaign.
pub async fn insert_campaign(
    conn: &mut AnyConnection,
    c: &CampaignRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO nps_campaigns (id, display_name, segment, survey_count, creator, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&c.id)
    .bind(&c.display_name)
    .bind(json_text(&StoredSegment::from(&c.segment))?)
    .bind(c.survey_count)
    .bind(&c.creator)
    .bind(c.create_time)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records how many surveys a campaign created.
pub async fn set_survey_count(
    conn: &mut AnyConnection,
    id: &str,
    survey_count: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE nps_campaigns SET survey_count = $1 WHERE id = $2")
        .bind(survey_count)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// One campaign by id.
pub async fn get_campaign(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<CampaignRecord>, sqlx::Error> {
    let query = sqlx::query(
        "SELECT id, display_name, segment, survey_count, creator, create_time FROM nps_campaigns \
         WHERE id = $1",
    )
    .bind(id);
    row::one(conn, query, |row| {
        Ok(CampaignRecord {
            id: row.try_get("id")?,
            display_name: row.try_get("display_name")?,
            segment: json::<StoredSegment>(row, "segment")?.into(),
            survey_count: row.try_get("survey_count")?,
            creator: row.try_get("creator")?,
            create_time: row.try_get("create_time")?,
        })
    })
    .await
}
