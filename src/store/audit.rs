//! The audit log (ORG-8): who changed what, written in the same transaction as the change.

use super::{Store, StoreResult, read};
use crate::domain::user::Actor;
use chrono::{DateTime, Utc};

/// One audit record to write.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub org_id: i64,
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

/// Inserts an `AuditEntry` through the transaction `$tx`.
macro_rules! record_audit {
    ($tx:expr, $entry:expr) => {{
        let e: &$crate::store::AuditEntry<'_> = &$entry;
        sqlx::query(
            "INSERT INTO audit_log (org_id, actor_user_id, actor, action, entity_type, entity_id, summary, details, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(e.org_id)
        .bind(e.actor.user_id)
        .bind(&e.actor.label)
        .bind(e.action)
        .bind(e.entity_type)
        .bind(e.entity_id)
        .bind(&e.summary)
        .bind(&e.details)
        .bind(chrono::Utc::now())
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use record_audit;

/// Inserts an `AuditEntry` through a `DynTx`.
pub async fn record_dyn(tx: &mut super::dyntx::DynTx, e: AuditEntry<'_>) -> StoreResult<()> {
    use super::dyntx::Arg;
    tx.execute(
        "INSERT INTO audit_log (org_id, actor_user_id, actor, action, entity_type, entity_id, summary, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            Arg::I64(e.org_id),
            Arg::OptI64(e.actor.user_id),
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
}

impl Store {
    /// A page of the org's audit log, newest first, optionally of one entity type.
    pub async fn list_audit(
        &self,
        org_id: i64,
        entity_type: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<AuditRow>, i64)> {
        let et = entity_type.unwrap_or("");
        read!(self, pool => {
            let rows = sqlx::query_as::<_, AuditRow>(
                "SELECT id, actor, action, entity_type, entity_id, summary, details, created_at FROM audit_log \
                 WHERE org_id = $1 AND ($2 = '' OR entity_type = $2) ORDER BY id DESC LIMIT $3 OFFSET $4",
            )
            .bind(org_id)
            .bind(et)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
            let total: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND ($2 = '' OR entity_type = $2)",
            )
            .bind(org_id)
            .bind(et)
            .fetch_one(pool)
            .await?;
            Ok((rows, total))
        })
    }
}
