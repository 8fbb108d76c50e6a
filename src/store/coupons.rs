//! Coupons: bulk generation of unique codes (COD-1), all or nothing.
//!
//! SQLite: sorted batches through multi-row inserts on the single writer connection.
//! PostgreSQL: `COPY` per batch inside one transaction; a batch that collides with an existing
//! code is rolled back to its savepoint and written again through a staging table with
//! `ON CONFLICT DO NOTHING`, the missing codes drawn in the next round.

use super::audit::record_dyn;
use super::dyntx::DynTx;
use super::jobs::RunningJob;
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::domain::coupon::{CodeFormat, Stripe, code_at, random_indices_in, stripes};
use crate::domain::ids::{OfferId, OrgId};
use crate::domain::redeem::CouponStatus;
use crate::domain::user::Actor;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// Codes drawn and written per batch.
pub const GENERATION_BATCH: usize = 100_000;
/// Rows per multi-row INSERT on SQLite (one bound parameter per row).
const SQLITE_ROWS_PER_INSERT: usize = 500;

/// Draws `n` sorted code numbers of a stripe off the async executor.
async fn draw(stripe: Stripe, n: u64) -> StoreResult<Vec<u128>> {
    tokio::task::spawn_blocking(move || random_indices_in(stripe.start, stripe.width, n as usize))
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
fn sqlite_insert(org_id: OrgId, offer_id: OfferId, rows: usize) -> String {
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
        org_id: OrgId,
        offer_id: OfferId,
        format: &CodeFormat,
        n: u64,
        actor: &Actor,
        job: Option<&RunningJob>,
    ) -> StoreResult<u64> {
        if let Some(job) = job {
            job.progress.set_total(n);
        }
        let summary = format!(
            "Generated {}",
            crate::domain::money::plural(n as i64, "code", "codes")
        );
        let mut written: u64 = 0;
        let mut tx = self.begin().await?;
        claim_offer(&mut tx, org_id, offer_id, n).await?;
        let writer = CodeWriter::new(&tx, org_id, offer_id);
        // Stripe by stripe of the code space (memory for one stripe, codes in ascending
        // order); each round draws a stripe's shortfall in one sorted run, and a round after
        // the first only happens when drawn codes were already taken in the org.
        let space = crate::domain::offer::code_space(format.charset, format.length);
        for stripe in stripes(space, n) {
            let mut done = 0;
            while done < stripe.count {
                let round = draw(stripe, stripe.count - done).await?;
                for batch in round.chunks(GENERATION_BATCH) {
                    let codes = batch_codes(format, batch);
                    // A code already in the org is skipped and drawn again next round.
                    let w = writer.write(&mut tx, format, &codes).await?;
                    done += w;
                    written += w;
                    if let Some(job) = job {
                        job.progress.done.store(written, Ordering::Relaxed);
                    }
                }
            }
        }
        if let Some(job) = job {
            super::jobs::finish_job(&mut tx, &job.claim, &summary).await?;
        }
        audit_generation(&mut tx, org_id, offer_id, n, actor).await?;
        tx.commit().await?;
        // Fresh statistics for the rows just written, so the next queries (issuing, the Coupons
        // tab) are planned for millions of coupons, not for an empty table.
        if let Some(refresh) = self.dialect().refresh_coupon_statistics()
            && n >= 100_000
            && let Err(e) = self.execute_autocommit(refresh, &[]).await
        {
            tracing::warn!(error = %e, "ANALYZE after generation failed");
        }
        Ok(written)
    }

    /// The generation benchmark's ceiling (`bench generate`'s `raw_per_s`): writes `codes`
    /// (already drawn, sorted) for an offer in one transaction through the same batch writer
    /// as generation (multi-row INSERT on SQLite, COPY on PostgreSQL, the same indexes) —
    /// no drawing, no counters, no audit. The number written.
    pub async fn raw_write_codes(
        &self,
        org_id: OrgId,
        offer_id: OfferId,
        format: &CodeFormat,
        codes: &[String],
    ) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let writer = CodeWriter::new(&tx, org_id, offer_id);
        let mut written = 0;
        for batch in codes.chunks(GENERATION_BATCH) {
            written += writer.write(&mut tx, format, batch).await?;
        }
        tx.commit().await?;
        Ok(written)
    }

    /// How many coupons an offer of the org has (counted; for verification, not for page views).
    pub async fn count_coupons(&self, org_id: OrgId, offer_id: OfferId) -> StoreResult<i64> {
        let (n,): (i64,) = self
            .fetch_one_read(
                "SELECT COUNT(*) FROM coupons WHERE org_id = $1 AND offer_id = $2",
                &[org_id.into(), offer_id.into()],
            )
            .await?;
        Ok(n)
    }
}

/// Writes batches of codes into the generating transaction: the one place where the backends
/// take different SQL. SQLite: multi-row INSERTs binding the codes where they lie (no copy
/// into `Arg`s per code). PostgreSQL: `COPY`, which needs the raw connection, under a
/// savepoint; a batch that collides with an existing code is rolled back and written again
/// through a staging table with `ON CONFLICT DO NOTHING`.
struct CodeWriter {
    org_id: OrgId,
    offer_id: OfferId,
    /// SQLite: the INSERT of `SQLITE_ROWS_PER_INSERT` rows, built once.
    sqlite_full: String,
}

impl CodeWriter {
    fn new(tx: &DynTx, org_id: OrgId, offer_id: OfferId) -> CodeWriter {
        let sqlite_full = if tx.is_postgres() {
            String::new()
        } else {
            sqlite_insert(org_id, offer_id, SQLITE_ROWS_PER_INSERT)
        };
        CodeWriter {
            org_id,
            offer_id,
            sqlite_full,
        }
    }

    /// Writes `codes`, skipping those the org has already; returns how many were written.
    async fn write(
        &self,
        tx: &mut DynTx,
        format: &CodeFormat,
        codes: &[String],
    ) -> StoreResult<u64> {
        let (org_id, offer_id) = (self.org_id, self.offer_id);
        let mut written: u64 = 0;
        match tx {
            DynTx::Sqlite(tx) => {
                for chunk in codes.chunks(SQLITE_ROWS_PER_INSERT) {
                    let sql = if chunk.len() == SQLITE_ROWS_PER_INSERT {
                        self.sqlite_full.clone()
                    } else {
                        sqlite_insert(org_id, offer_id, chunk.len())
                    };
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for code in chunk {
                        q = q.bind(code);
                    }
                    written += q.execute(tx.conn()?).await?.rows_affected();
                }
            }
            DynTx::Postgres(tx) => {
                let mut data = String::with_capacity(
                    codes.len() * (format.prefix.len() + format.length as usize + 16),
                );
                for code in codes {
                    let _ = writeln!(data, "{org_id}\t{offer_id}\t{code}");
                }
                sqlx::query("SAVEPOINT generate_batch")
                    .execute(&mut **tx)
                    .await?;
                let mut copy = tx
                    .copy_in_raw("COPY coupons (org_id, offer_id, code) FROM STDIN")
                    .await?;
                copy.send(data.into_bytes()).await?;
                match copy.finish().await {
                    Ok(rows) => {
                        written += rows;
                        sqlx::query("RELEASE SAVEPOINT generate_batch")
                            .execute(&mut **tx)
                            .await?;
                    }
                    Err(e)
                        if e.as_database_error()
                            .is_some_and(|d| d.is_unique_violation()) =>
                    {
                        // A drawn code exists already: write the batch again, skipping the
                        // taken codes; the shortfall is drawn in the next round.
                        sqlx::query("ROLLBACK TO SAVEPOINT generate_batch")
                            .execute(&mut **tx)
                            .await?;
                        sqlx::query("CREATE TEMP TABLE IF NOT EXISTS coupon_staging (code TEXT NOT NULL) ON COMMIT DROP").execute(&mut **tx).await?;
                        sqlx::query("TRUNCATE coupon_staging")
                            .execute(&mut **tx)
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
                        .execute(&mut **tx)
                        .await?
                        .rows_affected();
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(written)
    }
}

/// Adds `n` to the offer's coupon counter through `tx`, refusing an offer that is not the
/// org's (the coupons table has no per-row foreign key; this is the check, once per job).
async fn claim_offer(tx: &mut DynTx, org_id: OrgId, offer_id: OfferId, n: u64) -> StoreResult<()> {
    let updated = tx
        .execute(
            "UPDATE offers SET coupon_count = coupon_count + $1 WHERE org_id = $2 AND id = $3",
            &[(n as i64).into(), org_id.into(), offer_id.into()],
        )
        .await?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Audits the generation through `tx`.
async fn audit_generation(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    n: u64,
    actor: &Actor,
) -> StoreResult<()> {
    record_dyn(
        tx,
        AuditEntry {
            org_id,
            actor,
            action: "coupons.generated",
            entity_type: "offer",
            entity_id: Some(offer_id.get()),
            summary: format!(
                "Generated {}",
                crate::domain::money::plural(n as i64, "code", "codes")
            ),
            details: None,
        },
    )
    .await
}

/// One row of the Coupons tab.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CouponRow {
    pub id: i64,
    pub code: String,
    pub status: CouponStatus,
    pub identifier_type: Option<String>,
    pub identifier: Option<String>,
    pub issued_at: Option<chrono::DateTime<chrono::Utc>>,
    pub valid_till: Option<chrono::NaiveDate>,
    pub redeemed_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl CouponRow {
    /// The status a person sees: an issued coupon past its last day is `expired`.
    pub fn shown_status(&self, today: chrono::NaiveDate) -> &'static str {
        self.status.shown(self.valid_till, today)
    }
}

/// Coupons tab filters; pages go forward from `after` (a coupon id), so a page costs the
/// same on an offer with ten coupons or ten million.
#[derive(Debug, Clone, Default)]
pub struct CouponQuery {
    /// A code prefix, or a customer's mobile, email or external id.
    pub search: String,
    /// `unissued`, `issued`, `expired`, `redeemed`, `revoked` or empty for all.
    pub status: String,
    pub after: i64,
    pub limit: i64,
    pub today: Option<chrono::NaiveDate>,
}

impl Store {
    /// A page of an offer's coupons in id order.
    pub async fn list_coupons(
        &self,
        org_id: OrgId,
        offer_id: OfferId,
        q: &CouponQuery,
    ) -> StoreResult<Vec<CouponRow>> {
        use super::dyntx::Arg;
        let today = q.today.unwrap_or_else(|| chrono::Utc::now().date_naive());
        let mut sql = String::from(
            "SELECT c.id, c.code, c.status, cu.identifier_type, cu.identifier, c.issued_at, c.valid_till, c.redeemed_at \
             FROM coupons c LEFT JOIN customers cu ON cu.id = c.customer_id \
             WHERE c.org_id = $1 AND c.offer_id = $2 AND c.id > $3",
        );
        let mut args: Vec<Arg> = vec![org_id.into(), offer_id.into(), q.after.into()];
        let search = q.search.trim();
        if !search.is_empty() {
            let customers = self.find_customers(org_id, search).await?;
            if customers.is_empty() {
                // Codes are upper case and ASCII: the prefix range ends before `~`.
                let prefix = search.to_ascii_uppercase();
                args.push(Arg::Text(prefix.clone()));
                args.push(Arg::Text(format!("{prefix}~")));
                let _ = write!(
                    sql,
                    " AND c.code >= ${} AND c.code < ${}",
                    args.len() - 1,
                    args.len()
                );
            } else {
                let first = args.len() + 1;
                args.extend(customers.iter().map(|id| Arg::I64(*id)));
                let _ = write!(
                    sql,
                    " AND c.customer_id IN ({})",
                    super::dyntx::placeholders(first, customers.len())
                );
            }
        }
        let status = q.status.as_str();
        if matches!(status, "unissued" | "redeemed" | "revoked") {
            args.push(Arg::Text(status.into()));
            let _ = write!(sql, " AND c.status = ${}", args.len());
        } else if matches!(status, "issued" | "expired") {
            args.push(Arg::OptDate(Some(today)));
            let cmp = if status == "issued" {
                "(c.valid_till IS NULL OR c.valid_till >= ${})"
            } else {
                "c.valid_till < ${}"
            };
            let _ = write!(
                sql,
                " AND c.status = 'issued' AND {}",
                cmp.replace("${}", &format!("${}", args.len()))
            );
        }
        args.push(Arg::I64(q.limit));
        let _ = write!(sql, " ORDER BY c.id LIMIT ${}", args.len());
        self.fetch_all_read(&sql, &args).await
    }

    /// Customers of the org whose mobile, email or external id is `search` (normalised).
    pub async fn find_customers(&self, org_id: OrgId, search: &str) -> StoreResult<Vec<i64>> {
        use super::dyntx::Arg;
        use crate::domain::masters::IdentifierType;
        let mut ids = Vec::new();
        for kind in [
            IdentifierType::Mobile,
            IdentifierType::Email,
            IdentifierType::ExternalId,
        ] {
            let Ok(value) = kind.normalise(search) else {
                continue;
            };
            let found: Vec<(i64,)> = self
                .fetch_all_read(
                    "SELECT id FROM customers WHERE org_id = $1 AND identifier_type = $2 AND identifier = $3",
                    &[org_id.into(), kind.as_str().into(), Arg::Text(value)],
                )
                .await?;
            ids.extend(found.into_iter().map(|(id,)| id));
        }
        Ok(ids)
    }
}
