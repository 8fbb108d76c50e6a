//! Revoking coupons of an offer (REV-1) in SQL: one set-based `UPDATE` per mode (per 400
//! customers for a customer list), so an offer with millions of coupons is revoked by the
//! database in one pass. The flow (one transaction with its audit entry) is `app::revoke`.

use super::dialect::Lock;
use super::dyntx::{Arg, DynTx, placeholders};
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::domain::ids::{OfferId, OrgId};
use crate::domain::revoke::{Revocation, StatusCounts};
use crate::domain::user::Actor;

/// Customers per statement of a customer-list revocation (two bound parameters each).
pub const REVOKE_CHUNK: usize = 400;

/// Customers named in the audit entry's details (the summary has the count of all).
const AUDITED_CUSTOMERS: usize = 100;

/// The offer's code generation (`common`, `unique`, …), its row held until `tx` ends.
/// PostgreSQL: the offer row's lock orders a revocation after (or before) a running issue,
/// which takes the same lock; otherwise an issue could read a coupon as unissued and hand it
/// out after this revoked it. SQLite has one writer, which orders them already.
pub async fn lock_offer(tx: &mut DynTx, org_id: OrgId, offer_id: OfferId) -> StoreResult<String> {
    let lock = tx.dialect().lock(Lock::Update);
    let offer: Option<(String,)> = tx
        .fetch_optional(
            &format!("SELECT generation FROM offers WHERE org_id = $1 AND id = $2{lock}"),
            &[org_id.into(), offer_id.into()],
        )
        .await?;
    offer.map(|(g,)| g).ok_or(StoreError::NotFound)
}

/// Revokes what `revocation` names of the offer's coupons, set-based: one `UPDATE` per mode
/// (per 400 customers for a customer list). Redeemed and already revoked coupons are never
/// touched. The number revoked.
pub async fn revoke_in(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    revocation: &Revocation,
    common: bool,
) -> StoreResult<u64> {
    let statuses = revocation.mode().statuses();
    let mut base = vec![
        offer_id.into(),
        org_id.into(),
        Arg::Time(chrono::Utc::now()),
    ];
    base.extend(statuses.iter().map(|s| Arg::from(*s)));
    let update = format!(
        "UPDATE coupons SET status = 'revoked', revoked_at = $3 \
         WHERE offer_id = $1 AND org_id = $2 AND status IN ({})",
        placeholders(4, statuses.len())
    );
    let revoked = match revocation {
        Revocation::AllNotRedeemed => tx.execute(&update, &base).await?,
        Revocation::Unissued if common => {
            // A common code's one coupon stays `unissued` while customers hold it (their
            // issues are in `issuals`): it is unissued only while nobody has been given it.
            tx.execute(
                &format!(
                    "{update} AND NOT EXISTS (SELECT 1 FROM issuals WHERE issuals.offer_id = $1)"
                ),
                &base,
            )
            .await?
        }
        Revocation::Unissued => tx.execute(&update, &base).await?,
        Revocation::Customers(customers) => {
            // The customers' coupons through `coupons_customer`: `+` keeps both databases
            // off the offer's and the org's indexes, which would read every coupon of the
            // offer (millions) for each chunk instead of the few the customers hold.
            let statuses = placeholders(4, statuses.len());
            let mut revoked = 0;
            for chunk in customers.chunks(REVOKE_CHUNK) {
                let first = base.len() + 1;
                let pairs: Vec<String> = (0..chunk.len())
                    .map(|i| format!("(${}, ${})", first + 2 * i, first + 2 * i + 1))
                    .collect();
                let mut args = base.clone();
                for c in chunk {
                    args.push(Arg::from(c.kind.as_str()));
                    args.push(Arg::Text(c.value.clone()));
                }
                revoked += tx
                    .execute(
                        &format!(
                            "WITH v(t, i) AS (VALUES {}) \
                             UPDATE coupons SET status = 'revoked', revoked_at = $3 \
                             WHERE +offer_id = $1 AND +org_id = $2 AND status IN ({statuses}) \
                             AND customer_id IN (SELECT c.id FROM v JOIN customers c \
                             ON c.org_id = $2 AND c.identifier_type = v.t AND c.identifier = v.i)",
                            pairs.join(",")
                        ),
                        &args,
                    )
                    .await?;
            }
            revoked
        }
    };

    Ok(revoked)
}

/// Audits a revocation of `revoked` coupons.
pub async fn audit_revocation(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    revocation: &Revocation,
    revoked: u64,
    actor: &Actor,
) -> StoreResult<()> {
    let details = match revocation {
        Revocation::Customers(c) => serde_json::json!({
            "mode": revocation.mode().api_name(),
            "revoked": revoked,
            "customers_listed": c.len(),
            "customers": c.iter().take(AUDITED_CUSTOMERS).map(|c| c.label()).collect::<Vec<_>>(),
        }),
        _ => serde_json::json!({"mode": revocation.mode().api_name(), "revoked": revoked}),
    };
    super::audit::record_dyn(
        tx,
        AuditEntry {
            org_id,
            actor,
            action: "coupons.revoked",
            entity_type: "offer",
            entity_id: Some(offer_id.get()),
            summary: revocation.summary(revoked),
            details: Some(details.to_string()),
        },
    )
    .await?;
    Ok(())
}

impl Store {
    /// How many coupons of an offer of the org are in each status (what each revoke mode would
    /// take now). Counted, so it reads the offer's coupons: for the revoke page, not hot paths.
    /// A common code's shared coupon counts as issued once anybody has been given it.
    pub async fn coupon_status_counts(
        &self,
        org_id: OrgId,
        offer_id: OfferId,
        common: bool,
    ) -> StoreResult<StatusCounts> {
        let rows: Vec<(String, i64)> = self
            .fetch_all_read(
                "SELECT status, COUNT(*) FROM coupons WHERE offer_id = $1 AND org_id = $2 GROUP BY status",
                &[offer_id.into(), org_id.into()],
            )
            .await?;
        let mut counts = StatusCounts::default();
        for (status, n) in rows {
            match status.as_str() {
                "unissued" => counts.unissued = n,
                "issued" => counts.issued = n,
                "redeemed" => counts.redeemed = n,
                "revoked" => counts.revoked = n,
                _ => {}
            }
        }
        if common && counts.unissued > 0 {
            let given: Vec<(i64,)> = self
                .fetch_all_read(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM issuals WHERE offer_id = $1 LIMIT 1) t",
                    &[offer_id.into()],
                )
                .await?;
            if given.first().is_some_and(|(n,)| *n > 0) {
                counts.issued += counts.unissued;
                counts.unissued = 0;
            }
        }
        Ok(counts)
    }
}
