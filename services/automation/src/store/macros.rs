//! Macros and their applications.

use kefu_db::row::{self, AnyQuery, Stored, Versioned, flag, flag_value, json, json_text, opt_i64};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::macros::{MacroRecord, Scope, Visibility};
use crate::domain::trigger::Action;

impl Stored for MacroRecord {
    const COLLECTION: &'static str = "macros";
    const TABLE: &'static str = "macros";
    const COLUMNS: &'static str = "id, display_name, description, active, visibility, owner, \
        actions, usage_count, last_used_time, create_time, update_time, version";

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let visibility: String = row.try_get("visibility")?;
        Ok(Self {
            id: row.try_get("id")?,
            display_name: row.try_get("display_name")?,
            description: row.try_get("description")?,
            active: flag(row, "active")?,
            visibility: Visibility::parse(&visibility).ok_or_else(|| {
                sqlx::Error::Decode(format!("unknown macro visibility {visibility}").into())
            })?,
            owner: row.try_get("owner")?,
            actions: json(row, "actions")?,
            usage_count: row.try_get("usage_count")?,
            last_used_time: opt_i64(row, "last_used_time")?,
            create_time: row.try_get("create_time")?,
            update_time: row.try_get("update_time")?,
            version: row.try_get("version")?,
        })
    }
}

impl Versioned for MacroRecord {
    fn id_and_version(&self) -> (&str, i64) {
        (&self.id, self.version)
    }
}

/// Binds `$1..$8` of both writes: a macro's changeable parts, its new version and its id.
fn bind_macro<'q>(
    statement: AnyQuery<'q>,
    m: &'q MacroRecord,
) -> Result<AnyQuery<'q>, sqlx::Error> {
    Ok(statement
        .bind(&m.display_name)
        .bind(&m.description)
        .bind(flag_value(m.active))
        .bind(m.visibility.as_str())
        .bind(json_text(&m.actions)?)
        .bind(m.update_time)
        .bind(m.version)
        .bind(&m.id))
}

/// Inserts a new macro.
pub async fn insert_macro(conn: &mut AnyConnection, m: &MacroRecord) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO macros (display_name, description, active, visibility, actions, \
               update_time, version, id, owner, create_time, usage_count) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0)";
    bind_macro(sqlx::query(sql), m)?
        .bind(&m.owner)
        .bind(m.create_time)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes a macro's changeable parts if the stored row is at `m.version - 1`.
pub async fn update_macro(conn: &mut AnyConnection, m: &MacroRecord) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE macros SET display_name = $1, description = $2, active = $3, \
               visibility = $4, actions = $5, update_time = $6, version = $7 \
               WHERE id = $8 AND version = $9";
    let statement = bind_macro(sqlx::query(sql), m)?.bind(m.version - 1);
    row::changed(conn, statement).await
}

/// Which macros a listing holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroFilter {
    /// Whose macros the caller sees.
    pub scope: Scope,
    /// Only active ones.
    pub active_only: bool,
    /// Only of this visibility.
    pub visibility: Option<Visibility>,
}

/// Up to `limit` macros of `filter` by display name after `(display_name, id)`.
pub async fn list_macros(
    conn: &mut AnyConnection,
    filter: &MacroFilter,
    after: Option<&(String, String)>,
    limit: usize,
) -> Result<Vec<MacroRecord>, sqlx::Error> {
    let mut params = kefu_db::Params::new();
    let mut conditions = Vec::new();
    match &filter.scope {
        Scope::All => {}
        Scope::SharedOnly => conditions.push("visibility = 'SHARED'".to_owned()),
        Scope::SharedAndOwnedBy(owner) => conditions.push(format!(
            "(visibility = 'SHARED' OR owner = {})",
            params.bind(owner.clone())
        )),
    }
    if filter.active_only {
        conditions.push("active = 1".to_owned());
    }
    if let Some(visibility) = filter.visibility {
        conditions.push(format!("visibility = {}", params.bind(visibility.as_str())));
    }
    if let Some((display_name, id)) = after {
        conditions.push(params.keyset(
            ("display_name", "id"),
            display_name.clone(),
            id.clone(),
            false,
        ));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "{}{filter} ORDER BY display_name, id LIMIT {}",
        row::select::<MacroRecord>(),
        params.limit(limit)
    );
    row::all(
        conn,
        sqlx::query_with(&sql, params.into_args()),
        MacroRecord::decode,
    )
    .await
}

/// Where one application of a macro to a ticket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationState {
    /// Steps still to apply.
    Pending,
    /// Every action applied (and counted).
    Applied,
    /// The tickets service refused an action.
    Failed,
}

impl ApplicationState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Applied => "APPLIED",
            Self::Failed => "FAILED",
        }
    }
}

/// One application of a macro to a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// Its id, the stem of the request ids its steps are sent with.
    pub id: String,
    /// The bare ticket id.
    pub ticket_id: String,
    /// The planned actions, templates rendered.
    pub actions: Vec<Action>,
    /// How many are applied.
    pub applied_actions: usize,
    /// Where it is.
    pub state: ApplicationState,
    /// The refusal, when failed.
    pub error: String,
}

/// Who applies which macro under which request id.
#[derive(Debug, Clone, Copy)]
pub struct ApplicationKey<'a> {
    /// The macro.
    pub macro_id: &'a str,
    /// The principal id applying it.
    pub actor: &'a str,
    /// The client's request id.
    pub request_id: &'a str,
}

/// The application of `key` to ticket `ticket_id`: the one an earlier call recorded, or `fresh`
/// (its id and planned actions), now recorded.
pub async fn application(
    conn: &mut AnyConnection,
    key: ApplicationKey<'_>,
    fresh: &Application,
    now: i64,
) -> Result<Application, sqlx::Error> {
    sqlx::query(
        "INSERT INTO macro_applications (id, macro_id, actor, request_id, ticket_id, actions, \
         applied_actions, state, create_time, update_time) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, 'PENDING', $7, $8) \
         ON CONFLICT (macro_id, actor, request_id, ticket_id) DO NOTHING",
    )
    .bind(&fresh.id)
    .bind(key.macro_id)
    .bind(key.actor)
    .bind(key.request_id)
    .bind(&fresh.ticket_id)
    .bind(json_text(&fresh.actions)?)
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let found = row::one(
        conn,
        sqlx::query(
            "SELECT id, ticket_id, actions, applied_actions, state, error FROM macro_applications \
             WHERE macro_id = $1 AND actor = $2 AND request_id = $3 AND ticket_id = $4",
        )
        .bind(key.macro_id)
        .bind(key.actor)
        .bind(key.request_id)
        .bind(&fresh.ticket_id),
        decode_application,
    )
    .await?;
    found.ok_or(sqlx::Error::RowNotFound)
}

fn decode_application(row: &AnyRow) -> Result<Application, sqlx::Error> {
    let state: String = row.try_get("state")?;
    let state = match state.as_str() {
        "PENDING" => ApplicationState::Pending,
        "APPLIED" => ApplicationState::Applied,
        "FAILED" => ApplicationState::Failed,
        other => {
            return Err(sqlx::Error::Decode(
                format!("unknown application state {other}").into(),
            ));
        }
    };
    let applied: i64 = row.try_get("applied_actions")?;
    Ok(Application {
        id: row.try_get("id")?,
        ticket_id: row.try_get("ticket_id")?,
        actions: json(row, "actions")?,
        applied_actions: usize::try_from(applied).unwrap_or(0),
        state,
        error: row.try_get("error")?,
    })
}

/// Records that application `id` has `applied` actions applied.
pub async fn set_application_progress(
    conn: &mut AnyConnection,
    id: &str,
    applied: usize,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE macro_applications SET applied_actions = $1, update_time = $2 \
         WHERE id = $3 AND state = 'PENDING'",
    )
    .bind(i64::try_from(applied).unwrap_or(i64::MAX))
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves pending application `id` to `state` with `error`; false when it was no longer pending
/// (another call finished it).
pub async fn finish_application(
    conn: &mut AnyConnection,
    id: &str,
    state: ApplicationState,
    error: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "UPDATE macro_applications SET state = $1, error = $2, update_time = $3 \
         WHERE id = $4 AND state = 'PENDING'",
    )
    .bind(state.as_str())
    .bind(error)
    .bind(now)
    .bind(id);
    row::changed(conn, statement).await
}

/// Counts one more ticket for macro `id`, used at `now`.
pub async fn count_use(conn: &mut AnyConnection, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE macros SET usage_count = usage_count + 1, last_used_time = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
