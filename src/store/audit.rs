//! The audit log (ORG-8): who changed what, written in the same transaction as the change.

use super::{Store, StoreResult};
use crate::domain::ids::OrgId;
use crate::domain::user::Actor;
use chrono::{DateTime, Utc};

/// One audit record to write.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub org_id: OrgId,
    pub actor: &'a Actor,
    /// What happened, e.g. `store.created`.
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: Option<i64>,
    /// One line for people.
    pub summary: String,
    /// JSON with before/after values where there are any.
    pub details: Option<String>,
}

/// Inserts an `AuditEntry` through a `DynTx`.
pub async fn record_dyn(tx: &mut super::dyntx::DynTx, e: AuditEntry<'_>) -> StoreResult<()> {
    use super::dyntx::Arg;
    tx.execute(
        "INSERT INTO audit_log (org_id, actor_user_id, actor, action, entity_type, entity_id, summary, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            e.org_id.into(),
            e.actor.user_id.into(),
            Arg::Text(e.actor.label.clone()),
            Arg::Text(e.action.into()),
            Arg::Text(e.entity_type.into()),
            Arg::OptI64(e.entity_id),
            Arg::Text(e.summary),
            Arg::OptText(e.details),
            Arg::Time(Utc::now()),
        ],
    )
    .await?;
    Ok(())
}

/// An audit record as listed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<i64>,
    pub summary: String,
    pub details: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The changed record's name as it is now (an offer's name, a user's email), if it still
    /// exists.
    pub entity_name: Option<String>,
}

/// The current name of the record an entry is about, by entity type (`a` is the audit row).
const ENTITY_NAME: &str = "CASE a.entity_type \
    WHEN 'offer' THEN (SELECT x.name FROM offers x WHERE x.id = a.entity_id AND x.org_id = a.org_id) \
    WHEN 'customer' THEN (SELECT x.identifier FROM customers x WHERE x.id = a.entity_id AND x.org_id = a.org_id) \
    WHEN 'org' THEN (SELECT x.name FROM orgs x WHERE x.id = a.entity_id AND x.id = a.org_id) \
    WHEN 'user' THEN (SELECT x.email FROM users x WHERE x.id = a.entity_id AND x.org_id = a.org_id) \
    WHEN 'concept' THEN (SELECT x.name FROM concepts x WHERE x.id = a.entity_id AND x.org_id = a.org_id) \
    WHEN 'zone' THEN (SELECT x.name FROM zones x WHERE x.id = a.entity_id AND x.org_id = a.org_id) \
    WHEN 'store' THEN (SELECT x.name FROM stores x WHERE x.id = a.entity_id AND x.org_id = a.org_id) \
    WHEN 'till' THEN (SELECT x.name FROM tills x WHERE x.id = a.entity_id AND x.org_id = a.org_id) \
    WHEN 'category' THEN (SELECT x.name FROM categories x WHERE x.id = a.entity_id AND x.org_id = a.org_id) \
    WHEN 'brand' THEN (SELECT x.name FROM brands x WHERE x.id = a.entity_id AND x.org_id = a.org_id) \
    WHEN 'poc' THEN (SELECT x.name FROM pocs x WHERE x.id = a.entity_id AND x.org_id = a.org_id) \
    WHEN 'consumer' THEN (SELECT x.name FROM consumers x WHERE x.id = a.entity_id AND x.org_id = a.org_id) \
    WHEN 'api_key' THEN (SELECT x.name FROM api_keys x WHERE x.id = a.entity_id AND x.org_id = a.org_id) \
    END";

impl Store {
    /// A page of the org's audit log, newest first, optionally of one entity type.
    pub async fn list_audit(
        &self,
        org_id: OrgId,
        entity_type: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<AuditRow>, i64)> {
        let et = entity_type.unwrap_or("");
        // Only the constant ENTITY_NAME is spliced in; every value is bound.
        let list_sql = format!(
            "SELECT a.id, a.actor, a.action, a.entity_type, a.entity_id, a.summary, a.details, a.created_at, \
             {ENTITY_NAME} AS entity_name FROM audit_log a \
             WHERE a.org_id = $1 AND ($2 = '' OR a.entity_type = $2) ORDER BY a.id DESC LIMIT $3 OFFSET $4"
        );
        let rows: Vec<AuditRow> = self
            .fetch_all_read(
                &list_sql,
                &[org_id.into(), et.into(), limit.into(), offset.into()],
            )
            .await?;
        let (total,): (i64,) = self
            .fetch_one_read(
                "SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND ($2 = '' OR entity_type = $2)",
                &[org_id.into(), et.into()],
            )
            .await?;
        Ok((rows, total))
    }
}
