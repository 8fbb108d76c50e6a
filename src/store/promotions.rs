//! Cart promotions (PRM-1): the promotions with their codes and status, and the org-wide
//! rules their writes keep (codes unique, the cap of live promotions, the version instances
//! cache live promotions under).

use super::audit::{AuditEntry, record_dyn};
use super::dyntx::{Arg, DynTx, placeholders};
use super::{Store, StoreError, StoreResult};
use crate::domain::ids::{OrgId, PromotionId};
use crate::domain::promotion::{Kind, Promotion, Status};
use crate::domain::user::Actor;
use chrono::{DateTime, Utc};

/// A promotion as stored: its rules (the engine's `Promotion`, id set), status and times.
#[derive(Debug, Clone)]
pub struct PromotionRecord {
    pub promotion: Promotion,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct PromotionRow {
    id: PromotionId,
    status: Status,
    definition: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<PromotionRow> for PromotionRecord {
    type Error = StoreError;
    fn try_from(r: PromotionRow) -> StoreResult<PromotionRecord> {
        let mut promotion: Promotion = serde_json::from_str(&r.definition)
            .map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))?;
        promotion.id = r.id.get();
        Ok(PromotionRecord {
            promotion,
            status: r.status,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const SELECT: &str =
    "SELECT id, status, definition, created_at, updated_at FROM promotions WHERE org_id = $1";

/// The org's promotions in one of `statuses`, by id, read inside `tx`.
pub(super) async fn promotions_in(
    tx: &mut DynTx,
    org_id: OrgId,
    statuses: &[Status],
) -> StoreResult<Vec<PromotionRecord>> {
    let mut args: Vec<Arg> = vec![org_id.into()];
    args.extend(statuses.iter().map(|s| Arg::from(s.as_str())));
    let rows: Vec<PromotionRow> = tx
        .fetch_all(
            &format!(
                "{SELECT} AND status IN ({}) ORDER BY id",
                placeholders(2, statuses.len())
            ),
            &args,
        )
        .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// The codes of a code-linked promotion, as stored and matched (trimmed, upper case).
fn codes_of(p: &Promotion) -> Vec<String> {
    match &p.kind {
        Kind::CodeLinked { codes } => {
            let mut c: Vec<String> = codes.iter().map(|c| c.trim().to_uppercase()).collect();
            c.sort();
            c.dedup();
            c
        }
        _ => Vec::new(),
    }
}

impl Store {
    /// Creates a promotion with `status` (draft or live). A code another promotion or a coupon
    /// of the org already uses answers `Conflict("codes")`.
    pub async fn create_promotion(
        &self,
        org_id: OrgId,
        promotion: &Promotion,
        status: Status,
        actor: &Actor,
    ) -> StoreResult<PromotionId> {
        let now = Utc::now();
        let definition = serde_json::to_string(promotion)
            .map_err(|e| StoreError::Db(sqlx::Error::Encode(Box::new(e))))?;
        let mut tx = self.begin().await?;
        // First: it also holds the org's row, so the org's promotion writes run one at a time
        // and the live cap counted below holds.
        bump_version(&mut tx, org_id).await?;
        let (id,): (PromotionId,) = tx
            .fetch_one(
                "INSERT INTO promotions (org_id, name, status, definition, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                &[
                    org_id.into(),
                    promotion.name.as_str().into(),
                    status.as_str().into(),
                    definition.into(),
                    now.into(),
                ],
            )
            .await?;
        write_codes(&mut tx, org_id, id, promotion).await?;
        if status == Status::Live {
            within_live_cap(&mut tx, org_id).await?;
        }
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "promotion.created",
                entity_type: "promotion",
                entity_id: Some(id.get()),
                summary: format!("Created promotion {} ({})", promotion.name, status.as_str()),
                details: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces a promotion's rules (the caller checked what may change); `NotFound` outside
    /// the org.
    pub async fn update_promotion(
        &self,
        org_id: OrgId,
        promotion: &Promotion,
        status: Status,
        actor: &Actor,
    ) -> StoreResult<()> {
        let id = PromotionId(promotion.id);
        let definition = serde_json::to_string(promotion)
            .map_err(|e| StoreError::Db(sqlx::Error::Encode(Box::new(e))))?;
        let mut tx = self.begin().await?;
        hold_in_turn(&mut tx, id).await?;
        bump_version(&mut tx, org_id).await?;
        let done = tx
            .execute(
                "UPDATE promotions SET name = $1, definition = $2, updated_at = $3 WHERE org_id = $4 AND id = $5 AND status = $6",
                &[
                    promotion.name.as_str().into(),
                    definition.into(),
                    Utc::now().into(),
                    org_id.into(),
                    id.into(),
                    status.as_str().into(),
                ],
            )
            .await?;
        if done == 0 {
            // Gone, or its status moved since the caller read it (it may have gone live).
            return Err(StoreError::Conflict("status".into()));
        }
        write_codes(&mut tx, org_id, id, promotion).await?;
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "promotion.updated",
                entity_type: "promotion",
                entity_id: Some(id.get()),
                summary: format!("Edited promotion {}", promotion.name),
                details: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// Sets how many promotions the org may have live at once.
    pub async fn set_live_promotion_cap(
        &self,
        org_id: OrgId,
        cap: i64,
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE orgs SET live_promotion_cap = $1 WHERE id = $2",
            &[cap.into(), org_id.into()],
        )
        .await?;
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "org.promotion_cap",
                entity_type: "org",
                entity_id: Some(org_id.get()),
                summary: format!("Live promotions capped at {cap}"),
                details: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// Moves a promotion to `status`; `NotFound` outside the org.
    pub async fn set_promotion_status(
        &self,
        org_id: OrgId,
        id: PromotionId,
        from: Status,
        to: Status,
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        hold_in_turn(&mut tx, id).await?;
        bump_version(&mut tx, org_id).await?;
        let done = tx
            .execute(
                "UPDATE promotions SET status = $1, updated_at = $2 WHERE org_id = $3 AND id = $4 AND status = $5",
                &[
                    to.as_str().into(),
                    Utc::now().into(),
                    org_id.into(),
                    id.into(),
                    from.as_str().into(),
                ],
            )
            .await?;
        if done == 0 {
            return Err(StoreError::Conflict("status".into()));
        }
        if to == Status::Live {
            within_live_cap(&mut tx, org_id).await?;
        }
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "promotion.status",
                entity_type: "promotion",
                entity_id: Some(id.get()),
                summary: format!("Promotion {from:?} → {to:?}").to_lowercase(),
                details: None,
            },
        )
        .await?;
        tx.commit().await
    }

    pub async fn get_promotion(
        &self,
        org_id: OrgId,
        id: PromotionId,
    ) -> StoreResult<PromotionRecord> {
        let row: PromotionRow = self
            .fetch_optional_read(
                &format!("{SELECT} AND id = $2"),
                &[org_id.into(), id.into()],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// The org's promotions, newest first.
    pub async fn list_promotions(&self, org_id: OrgId) -> StoreResult<Vec<PromotionRecord>> {
        let rows: Vec<PromotionRow> = self
            .fetch_all_read(&format!("{SELECT} ORDER BY id DESC"), &[org_id.into()])
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The promotions carts are evaluated against.
    pub async fn live_promotions(&self, org_id: OrgId) -> StoreResult<Vec<Promotion>> {
        let rows: Vec<PromotionRow> = self
            .fetch_all_read(
                &format!("{SELECT} AND status = 'live' ORDER BY id"),
                &[org_id.into()],
            )
            .await?;
        rows.into_iter()
            .map(|r| PromotionRecord::try_from(r).map(|p| p.promotion))
            .collect()
    }

    /// How many promotions of the org are live (the org's cap counts them).
    pub async fn count_live_promotions(&self, org_id: OrgId) -> StoreResult<i64> {
        let (n,): (i64,) = self
            .fetch_one_read(
                "SELECT COUNT(*) FROM promotions WHERE org_id = $1 AND status = 'live'",
                &[org_id.into()],
            )
            .await?;
        Ok(n)
    }
}

/// Refuses (`Conflict("live_cap")`) a write that leaves the org with more live promotions than
/// its cap; the org's row is held by `bump_version`, so concurrent writes cannot both pass.
async fn within_live_cap(tx: &mut DynTx, org_id: OrgId) -> StoreResult<()> {
    let (live, cap): (i64, i64) = tx
        .fetch_one(
            "SELECT (SELECT COUNT(*) FROM promotions WHERE org_id = $1 AND status = 'live'), \
             live_promotion_cap FROM orgs WHERE id = $1",
            &[org_id.into()],
        )
        .await?;
    if live > cap {
        return Err(StoreError::Conflict("live_cap".into()));
    }
    Ok(())
}

/// PostgreSQL: waits its turn among the closing carts that hold the promotion's row (the
/// exclusive advisory lock of migration 23, granted in order), so a steady stream of closes
/// sharing the row cannot hold a console edit off. SQLite's one writer orders them anyway.
async fn hold_in_turn(tx: &mut DynTx, id: PromotionId) -> StoreResult<()> {
    if tx.is_postgres() {
        tx.execute(
            "SELECT pg_advisory_xact_lock(1601, ($1 % 2147483647)::INT)",
            &[id.into()],
        )
        .await?;
    }
    Ok(())
}

/// Marks the org's promotions as changed (instances reload their cached live promotions).
async fn bump_version(tx: &mut DynTx, org_id: OrgId) -> StoreResult<()> {
    tx.execute(
        "UPDATE orgs SET promotions_version = promotions_version + 1 WHERE id = $1",
        &[org_id.into()],
    )
    .await?;
    Ok(())
}

/// Writes a promotion's codes (replacing those it had). A code a coupon or another promotion of
/// the org uses answers `Conflict`.
async fn write_codes(
    tx: &mut DynTx,
    org_id: OrgId,
    id: PromotionId,
    promotion: &Promotion,
) -> StoreResult<()> {
    let held: Vec<(String,)> = tx
        .fetch_all(
            "DELETE FROM promotion_codes WHERE org_id = $1 AND promotion_id = $2 RETURNING code",
            &[org_id.into(), id.into()],
        )
        .await?;
    let codes = codes_of(promotion);
    if codes.is_empty() {
        return Ok(());
    }
    // Codes the promotion already held stay its own (taken before an offer of their shape).
    let new: Vec<String> = codes
        .iter()
        .filter(|c| !held.iter().any(|h| &h.0 == *c))
        .cloned()
        .collect();
    if !new.is_empty() {
        super::orgs::lock_org(tx, org_id).await?;
        super::code_shapes::refuse_generated_shapes(tx, org_id, &new).await?;
    }
    let mut args: Vec<Arg> = vec![org_id.into()];
    args.extend(codes.iter().map(|c| Arg::from(c.as_str())));
    let taken: Vec<(String,)> = tx
        .fetch_all(
            &format!(
                "SELECT code FROM coupons WHERE org_id = $1 AND code IN ({}) \
                 UNION SELECT code FROM promotion_codes WHERE org_id = $1 AND code IN ({0})",
                placeholders(2, codes.len())
            ),
            &args,
        )
        .await?;
    if !taken.is_empty() {
        let names: Vec<String> = taken.into_iter().map(|t| t.0).collect();
        return Err(StoreError::Conflict(format!(
            "codes: {} already used in this organisation",
            names.join(", ")
        )));
    }
    for code in &codes {
        tx.execute(
            "INSERT INTO promotion_codes (org_id, code, promotion_id) VALUES ($1, $2, $3)",
            &[org_id.into(), code.as_str().into(), id.into()],
        )
        .await
        .map_err(|e| match e {
            StoreError::Db(d) => StoreError::conflict_as(
                d,
                format!("codes: {code} already used in this organisation"),
            ),
            other => other,
        })?;
    }
    Ok(())
}
