//! NPS campaigns.

use sqlx::{AnyConnection, Row};

use super::{json, json_text};
use crate::domain::records::CampaignRecord;

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
    .bind(json_text(&c.segment)?)
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
    let rows = sqlx::query(
        "SELECT id, display_name, segment, survey_count, creator, create_time FROM nps_campaigns \
         WHERE id = $1",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.first()
        .map(|row| {
            Ok(CampaignRecord {
                id: row.try_get("id")?,
                display_name: row.try_get("display_name")?,
                segment: json(row, "segment")?,
                survey_count: row.try_get("survey_count")?,
                creator: row.try_get("creator")?,
                create_time: row.try_get("create_time")?,
            })
        })
        .transpose()
}
