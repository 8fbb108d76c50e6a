//! Coupons: bulk generation of unique codes (COD-1), all or nothing.
//!
//! SQLite: sorted batches through multi-row inserts on the single writer connection.
//! PostgreSQL: `COPY` per batch inside one transaction; a batch that collides with an existing
//! code is rolled back to its savepoint and written again through a staging table with
//! `ON CONFLICT DO NOTHING`, the missing codes drawn in the next round.

use super::{AuditEntry, Backend, Store, StoreError, StoreResult, record_audit};
use crate::domain::coupon::{CodeFormat, code_at, random_indices};
use crate::domain::user::Actor;
use std::fmt::Write as _;

/// Codes drawn and written per batch.
pub const GENERATION_BATCH: usize = 100_000;
/// Rows per multi-row INSERT on SQLite (one bound parameter per row).
const SQLITE_ROWS_PER_INSERT: usize = 500;

/// Draws `n` sorted code numbers off the async executor (for 10M codes this takes seconds).
async fn draw(format: &CodeFormat, n: usize) -> StoreResult<Vec<u128>> {
    let format = format.clone();
    tokio::task::spawn_blocking(move || random_indices(&format, n))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "drawing codes failed");
            StoreError::Db(sqlx::Error::WorkerCrashed)
        })
}

/// The codes of one batch, in order.
fn batch_codes(format: &CodeFormat, indices: &[u128]) -> Vec<String> {
    indices.iter().map(|i| code_at(format, *i)).collect()
}

/// `INSERT … VALUES (org, offer, $1), …` for `rows` rows; the ids are integers we own.
fn sqlite_insert(org_id: i64, offer_id: i64, rows: usize) -> String {
    let mut sql = String::from("INSERT INTO coupons (org_id, offer_id, code) VALUES ");
    for i in 1..=rows {
        if i > 1 {
            sql.push(',');
        }
        let _ = write!(sql, "({org_id},{offer_id},${i})");
    }
    sql.push_str(" ON CONFLICT (org_id, code) DO NOTHING");
    sql
}

impl Store {
    /// Generates `n` new unique codes of `format` for an offer of the org, in one transaction:
    /// either all `n` are there afterwards or none is. Returns the number written (`n`).
    pub async fn generate_codes(
        &self,
        org_id: i64,
        offer_id: i64,
        format: &CodeFormat,
        n: u64,
        actor: &Actor,
    ) -> StoreResult<u64> {
        let mut written: u64 = 0;
        match &self.backend {
            Backend::Sqlite { write, .. } => {
                let mut tx = write.begin_with("BEGIN IMMEDIATE").await?;
                claim_offer!(tx, org_id, offer_id, n);
                let full = sqlite_insert(org_id, offer_id, SQLITE_ROWS_PER_INSERT);
                // Each round draws the whole shortfall in one sorted run; a round after the first
                // only happens when drawn codes were already taken in the org.
                while written < n {
                    let round = draw(format, (n - written) as usize).await?;
                    for batch in round.chunks(GENERATION_BATCH) {
                        let codes = batch_codes(format, batch);
                        for chunk in codes.chunks(SQLITE_ROWS_PER_INSERT) {
                            let sql = if chunk.len() == SQLITE_ROWS_PER_INSERT {
                                full.clone()
                            } else {
                                sqlite_insert(org_id, offer_id, chunk.len())
                            };
                            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                            for code in chunk {
                                q = q.bind(code);
                            }
                            // A code already in the org is skipped and drawn again next round.
                            written += q.execute(&mut *tx).await?.rows_affected();
                        }
                    }
                }
                audit_generation!(tx, org_id, offer_id, n, actor);
                tx.commit().await?;
            }
            Backend::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                claim_offer!(tx, org_id, offer_id, n);
                while written < n {
                    let round = draw(format, (n - written) as usize).await?;
                    for batch in round.chunks(GENERATION_BATCH) {
                        let codes = batch_codes(format, batch);
                        let mut data = String::with_capacity(
                            codes.len() * (format.prefix.len() + format.length as usize + 16),
                        );
                        for code in &codes {
                            let _ = writeln!(data, "{org_id}\t{offer_id}\t{code}");
                        }
                        sqlx::query("SAVEPOINT generate_batch")
                            .execute(&mut *tx)
                            .await?;
                        let mut copy = tx
                            .copy_in_raw("COPY coupons (org_id, offer_id, code) FROM STDIN")
                            .await?;
                        copy.send(data.into_bytes()).await?;
                        match copy.finish().await {
                            Ok(rows) => {
                                written += rows;
                                sqlx::query("RELEASE SAVEPOINT generate_batch")
                                    .execute(&mut *tx)
                                    .await?;
                            }
                            Err(e)
                                if e.as_database_error()
                                    .is_some_and(|d| d.is_unique_violation()) =>
                            {
                                // A drawn code exists already: write the batch again, skipping the
                                // taken codes; the shortfall is drawn in the next round.
                                sqlx::query("ROLLBACK TO SAVEPOINT generate_batch")
                                    .execute(&mut *tx)
                                    .await?;
                                sqlx::query("CREATE TEMP TABLE IF NOT EXISTS coupon_staging (code TEXT NOT NULL) ON COMMIT DROP").execute(&mut *tx).await?;
                                sqlx::query("TRUNCATE coupon_staging")
                                    .execute(&mut *tx)
                                    .await?;
                                let mut copy = tx
                                    .copy_in_raw("COPY coupon_staging (code) FROM STDIN")
                                    .await?;
                                copy.send(codes.join("\n").into_bytes()).await?;
                                copy.finish().await?;
                                written += sqlx::query(
                                "INSERT INTO coupons (org_id, offer_id, code) SELECT $1, $2, code FROM coupon_staging ON CONFLICT (org_id, code) DO NOTHING",
                            )
                            .bind(org_id)
                            .bind(offer_id)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
                audit_generation!(tx, org_id, offer_id, n, actor);
                tx.commit().await?;
            }
        }
        Ok(written)
    }

    /// How many coupons an offer of the org has (counted; for verification, not for page views).
    pub async fn count_coupons(&self, org_id: i64, offer_id: i64) -> StoreResult<i64> {
        super::read!(self, pool => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM coupons WHERE org_id = $1 AND offer_id = $2")
            .bind(org_id)
            .bind(offer_id)
            .fetch_one(pool)
            .await?))
    }
}

/// Adds `$n` to the offer's coupon counter through `$tx`, refusing an offer that is not the
/// org's (the coupons table has no per-row foreign key; this is the check, once per job).
macro_rules! claim_offer {
    ($tx:expr, $org_id:expr, $offer_id:expr, $n:expr) => {{
        let updated = sqlx::query(
            "UPDATE offers SET coupon_count = coupon_count + $1 WHERE org_id = $2 AND id = $3",
        )
        .bind($n as i64)
        .bind($org_id)
        .bind($offer_id)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
    }};
}
use claim_offer;

/// Audits the generation through `$tx`.
macro_rules! audit_generation {
    ($tx:expr, $org_id:expr, $offer_id:expr, $n:expr, $actor:expr) => {{
        record_audit!(
            $tx,
            AuditEntry {
                org_id: $org_id,
                actor: $actor,
                action: "coupons.generated",
                entity_type: "offer",
                entity_id: Some($offer_id),
                summary: format!("Generated {} codes", $n),
                details: None,
            }
        );
    }};
}
use audit_generation;
