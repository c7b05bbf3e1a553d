use kefu_db::Params;
use kefu_db::row::{self, Stored, Versioned, int, json, json_text};
use kefu_server::common::Tier;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::like_pattern;
use crate::domain::organization::{OrganizationFields, OrganizationRecord};

const COLUMNS: &str =
    "id, display_name, domains, default_tier, tags, create_time, update_time, version";

impl Stored for OrganizationRecord {
    const COLLECTION: &'static str = "organizations";
    const TABLE: &'static str = "organizations";
    const COLUMNS: &'static str = COLUMNS;

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(OrganizationRecord {
            id: row.try_get("id")?,
            fields: OrganizationFields {
                display_name: row.try_get("display_name")?,
                domains: json(row, "domains")?,
                default_tier: Tier::from_number(int(row, "default_tier")?)
                    .unwrap_or(Tier::Standard),
                tags: json(row, "tags")?,
            },
            create_time: row.try_get("create_time")?,
            update_time: row.try_get("update_time")?,
            version: row.try_get("version")?,
        })
    }
}

impl Versioned for OrganizationRecord {
    fn id_and_version(&self) -> (&str, i64) {
        (&self.id, self.version)
    }
}

/// The organization that owns an email domain.
pub async fn organization_for_domain(
    conn: &mut AnyConnection,
    domain: &str,
) -> Result<Option<OrganizationRecord>, sqlx::Error> {
    row::one(conn, sqlx::query(&format!(
        "SELECT {COLUMNS} FROM organizations WHERE id = (SELECT organization_id FROM organization_domains WHERE domain = $1)"
    ))
    .bind(domain), OrganizationRecord::decode).await
}

/// Which of these domains belong to an organization other than `except_id`.
pub async fn domain_owners(
    conn: &mut AnyConnection,
    domains: &[String],
    except_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    if domains.is_empty() {
        return Ok(Vec::new());
    }
    let mut params = Params::new();
    let domains = params.list(domains.to_vec());
    let except = params.bind(except_id.to_owned());
    let sql = format!(
        "SELECT domain, organization_id FROM organization_domains WHERE domain IN ({domains}) AND organization_id <> {except}"
    );
    row::all(conn, sqlx::query_with(&sql, params.into_args()), |r| {
        Ok((r.try_get("domain")?, r.try_get("organization_id")?))
    })
    .await
}

async fn write_domains(
    conn: &mut AnyConnection,
    record: &OrganizationRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM organization_domains WHERE organization_id = $1")
        .bind(&record.id)
        .execute(&mut *conn)
        .await?;
    for domain in &record.fields.domains {
        sqlx::query("INSERT INTO organization_domains (domain, organization_id) VALUES ($1, $2)")
            .bind(domain)
            .bind(&record.id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Inserts an organization and its domains.
pub async fn insert_organization(
    conn: &mut AnyConnection,
    record: &OrganizationRecord,
) -> Result<(), sqlx::Error> {
    let f = &record.fields;
    sqlx::query(
        "INSERT INTO organizations (id, display_name, domains, default_tier, tags, search_text, create_time, update_time, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&record.id)
    .bind(&f.display_name)
    .bind(json_text(&f.domains)?)
    .bind(i64::from(f.default_tier.number()))
    .bind(json_text(&f.tags)?)
    .bind(f.display_name.to_lowercase())
    .bind(record.create_time)
    .bind(record.update_time)
    .bind(record.version)
    .execute(&mut *conn)
    .await?;
    write_domains(conn, record).await
}

/// Writes `record` if the stored version is still `expected_version`.
pub async fn update_organization(
    conn: &mut AnyConnection,
    record: &OrganizationRecord,
    expected_version: i64,
) -> Result<bool, sqlx::Error> {
    let f = &record.fields;
    let statement = sqlx::query(
        "UPDATE organizations SET display_name = $1, domains = $2, default_tier = $3, tags = $4, search_text = $5, \
         update_time = $6, version = $7 WHERE id = $8 AND version = $9",
    )
    .bind(&f.display_name)
    .bind(json_text(&f.domains)?)
    .bind(i64::from(f.default_tier.number()))
    .bind(json_text(&f.tags)?)
    .bind(f.display_name.to_lowercase())
    .bind(record.update_time)
    .bind(record.version)
    .bind(&record.id)
    .bind(expected_version);
    let updated = row::changed(conn, statement).await?;
    if !updated {
        return Ok(false);
    }
    write_domains(conn, record).await?;
    Ok(true)
}

/// True when a customer belongs to the organization.
pub async fn organization_has_members(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let rows = sqlx::query("SELECT id FROM customers WHERE organization_id = $1 LIMIT 1")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(!rows.is_empty())
}

/// ListOrganizations filters.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFilter {
    /// Lower-cased substring of the display name.
    pub query: Option<String>,
}

/// A page of organizations in id order after `after_id`.
pub async fn list_organizations(
    conn: &mut AnyConnection,
    filter: &OrganizationFilter,
    after_id: Option<&str>,
    limit: usize,
) -> Result<Vec<OrganizationRecord>, sqlx::Error> {
    let mut params = Params::new();
    let mut clauses = Vec::new();
    if let Some(after) = after_id {
        clauses.push(format!("id > {}", params.bind(after.to_owned())));
    }
    if let Some(query) = &filter.query {
        clauses.push(format!(
            "search_text LIKE {} ESCAPE '\\'",
            params.bind(like_pattern(query))
        ));
    }
    let where_clause = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let limit = params.limit(limit);
    let sql =
        format!("SELECT {COLUMNS} FROM organizations {where_clause} ORDER BY id LIMIT {limit}");
    row::all(
        conn,
        sqlx::query_with(&sql, params.into_args()),
        OrganizationRecord::decode,
    )
    .await
}
