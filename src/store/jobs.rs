//! Background jobs (ISS-5): a row per job, its uploaded input and its result file in 1 MB
//! chunks, claimed with a lease so that a job whose process died is taken up again. The work
//! and the job's `done` mark are written in one transaction, so a job is applied whole or not
//! at all, and a retried job starts from a clean slate.

use super::dyntx::{Arg, DynTx};
use super::{Store, StoreError, StoreResult};
use crate::domain::ids::{JobId, OfferId, OrgId, UserId};
pub use crate::domain::job::{JobKind, JobStatus};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes per stored chunk of a job file.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// How long a claim holds without a heartbeat.
pub const LEASE_SECONDS: i64 = 120;
/// Claims after which a job that keeps dying is failed instead.
pub const MAX_ATTEMPTS: i64 = 3;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: JobId,
    pub org_id: OrgId,
    pub offer_id: OfferId,
    pub kind: JobKind,
    pub params: String,
    pub status: JobStatus,
    pub file_name: Option<String>,
    pub input_bytes: i64,
    pub attempts: i64,
    pub summary: Option<String>,
    pub error: Option<String>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl JobRow {
    pub fn finished(&self) -> bool {
        self.status.finished()
    }

    pub fn param_u64(&self, key: &str) -> Option<u64> {
        serde_json::from_str::<serde_json::Value>(&self.params)
            .ok()?
            .get(key)?
            .as_u64()
    }

    pub fn param_i64(&self, key: &str) -> Option<i64> {
        serde_json::from_str::<serde_json::Value>(&self.params)
            .ok()
            .and_then(|v| v.get(key).and_then(|b| b.as_i64()))
    }

    pub fn param_bool(&self, key: &str) -> bool {
        serde_json::from_str::<serde_json::Value>(&self.params)
            .ok()
            .and_then(|v| v.get(key).and_then(|b| b.as_bool()))
            .unwrap_or(false)
    }
}

const COLUMNS: &str = "id, org_id, offer_id, kind, params, status, file_name, input_bytes, attempts, summary, error, created_by, \
    created_at, started_at, finished_at";

/// How far a running job is, shared between the worker and the progress bar.
#[derive(Debug, Default)]
pub struct JobProgress {
    pub done: AtomicU64,
    pub total: AtomicU64,
}

impl JobProgress {
    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    pub fn set_total(&self, n: u64) {
        self.total.store(n, Ordering::Relaxed);
    }

    /// (done, total)
    pub fn get(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}

/// One claim of a job: the job, the attempt it was claimed as and the worker that claimed it.
/// A job retried by a person counts its attempts from 0 again, so the attempt alone does not
/// tell claims apart; with the claiming worker (unique per process) it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobClaim {
    pub job_id: JobId,
    pub attempts: i64,
    pub owner: String,
}

/// A job being worked on by this process.
#[derive(Debug, Clone)]
pub struct RunningJob {
    pub id: JobId,
    /// The claim running it.
    pub claim: JobClaim,
    pub progress: Arc<JobProgress>,
}

/// Ends a claim's run of a job: `done` with its summary, or `failed` with its error. Only the
/// claim running the job matches; whether it did.
async fn end_claim(
    tx: &mut DynTx,
    claim: &JobClaim,
    outcome: Result<&str, &str>,
) -> StoreResult<bool> {
    let (status, summary, error) = match outcome {
        Ok(summary) => ("done", Some(summary), None),
        Err(error) => ("failed", None, Some(error)),
    };
    let marked = tx
        .execute(
            "UPDATE jobs SET status = $1, summary = COALESCE($2, summary), error = $3, finished_at = $4, lease_until = NULL \
             WHERE id = $5 AND status = 'running' AND attempts = $6 AND lease_owner = $7",
            &[
                status.into(),
                Arg::OptText(summary.map(str::to_string)),
                Arg::OptText(error.map(str::to_string)),
                Utc::now().into(),
                claim.job_id.into(),
                claim.attempts.into(),
                claim.owner.as_str().into(),
            ],
        )
        .await?;
    Ok(marked > 0)
}

/// Marks a job done through the work's own transaction.
pub async fn finish_job(tx: &mut DynTx, claim: &JobClaim, summary: &str) -> StoreResult<()> {
    // Only the claim that ran the work may finish it: a worker whose lease ran out while
    // another took the job up again finds nothing to mark, and its transaction — the work
    // with it — is rolled back.
    if !end_claim(tx, claim, Ok(summary)).await? {
        return Err(StoreError::Conflict(
            "the job was taken up again by another worker; this run's work was not kept".into(),
        ));
    }
    Ok(())
}

/// Writes chunk `seq` of a job's result file through `tx`.
pub async fn put_result_chunk(
    tx: &mut DynTx,
    job_id: JobId,
    seq: i64,
    data: Vec<u8>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO job_files (job_id, kind, seq, data) VALUES ($1, 'result', $2, $3)",
        &[job_id.into(), seq.into(), Arg::Bytes(data)],
    )
    .await?;
    Ok(())
}

/// Reads chunk `seq` of a job's input through `tx`.
pub async fn input_chunk(tx: &mut DynTx, job_id: JobId, seq: i64) -> StoreResult<Option<Vec<u8>>> {
    Ok(tx
        .fetch_optional::<(Vec<u8>,)>(
            "SELECT data FROM job_files WHERE job_id = $1 AND kind = 'input' AND seq = $2",
            &[job_id.into(), seq.into()],
        )
        .await?
        .map(|(d,)| d))
}

/// A result file written in `CHUNK_BYTES` pieces as it grows.
pub struct ResultWriter {
    job_id: JobId,
    seq: i64,
    buf: Vec<u8>,
}

impl ResultWriter {
    pub fn new(job_id: JobId, header: &str) -> ResultWriter {
        let mut buf = Vec::with_capacity(CHUNK_BYTES + 4096);
        buf.extend_from_slice(header.as_bytes());
        buf.push(b'\n');
        ResultWriter {
            job_id,
            seq: 0,
            buf,
        }
    }

    /// Adds one CSV record (fields quoted as needed).
    pub fn record(&mut self, fields: &[&str]) {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        // Spreadsheet-safe: a customer's `=HYPERLINK(…)` is written as text, not a formula.
        let _ = crate::domain::csv_safe::write_record(&mut w, fields);
        if let Ok(bytes) = w.into_inner() {
            self.buf.extend_from_slice(&bytes);
        }
    }

    /// Stores full chunks.
    pub async fn flush(&mut self, tx: &mut DynTx, all: bool) -> StoreResult<()> {
        while self.buf.len() >= CHUNK_BYTES || (all && !self.buf.is_empty()) {
            let take = self.buf.len().min(CHUNK_BYTES);
            let rest = self.buf.split_off(take);
            let chunk = std::mem::replace(&mut self.buf, rest);
            put_result_chunk(tx, self.job_id, self.seq, chunk).await?;
            self.seq += 1;
        }
        Ok(())
    }
}

impl Store {
    /// Creates a job; `receiving` while its input is still being uploaded, else queued.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_job(
        &self,
        org_id: OrgId,
        offer_id: OfferId,
        kind: JobKind,
        params: serde_json::Value,
        file_name: Option<&str>,
        receiving: bool,
        user_id: Option<UserId>,
    ) -> StoreResult<JobId> {
        let mut tx = self.begin().await?;
        let (id,): (JobId,) = tx
            .fetch_optional(
                "INSERT INTO jobs (org_id, offer_id, kind, params, status, file_name, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[
                    org_id.into(),
                    offer_id.into(),
                    kind.as_str().into(),
                    params.to_string().into(),
                    (if receiving { "receiving" } else { "queued" }).into(),
                    Arg::OptText(file_name.map(str::to_string)),
                    user_id.into(),
                    Utc::now().into(),
                ],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(id)
    }

    /// Stores chunk `seq` of a receiving job's input.
    pub async fn append_job_input(
        &self,
        job_id: JobId,
        seq: i64,
        data: Vec<u8>,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO job_files (job_id, kind, seq, data) VALUES ($1, 'input', $2, $3)",
            &[job_id.into(), seq.into(), Arg::Bytes(data)],
        )
        .await?;
        tx.commit().await
    }

    /// The input is complete: the job may run.
    pub async fn queue_job(&self, job_id: JobId, input_bytes: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE jobs SET status = 'queued', input_bytes = $1 WHERE id = $2 AND status = 'receiving'",
            &[input_bytes.into(), job_id.into()],
        )
        .await?;
        tx.commit().await
    }

    /// Drops a job whose upload was refused or broke off.
    pub async fn discard_job(&self, job_id: JobId) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.execute("DELETE FROM job_files WHERE job_id = $1", &[job_id.into()])
            .await?;
        tx.execute("DELETE FROM jobs WHERE id = $1", &[job_id.into()])
            .await?;
        tx.commit().await
    }

    /// Claims the oldest queued job, or a running one whose lease ran out (its process died),
    /// atomically: two workers never claim the same job.
    /// `owner`: the claiming instance, recorded with the lease.
    pub async fn claim_job(&self, now: DateTime<Utc>, owner: &str) -> StoreResult<Option<JobRow>> {
        let skip = self.dialect().lock(super::dialect::Lock::UpdateSkipLocked);
        let mut tx = self.begin().await?;
        let job: Option<JobRow> = tx
            .fetch_optional(
                &format!(
                    "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = $1, started_at = $2, error = NULL, lease_owner = $3 \
                     WHERE id = (SELECT id FROM jobs WHERE status = 'queued' OR (status = 'running' AND lease_until < $2) \
                     ORDER BY id LIMIT 1{skip}) RETURNING {COLUMNS}"
                ),
                &[
                    (now + Duration::seconds(LEASE_SECONDS)).into(),
                    now.into(),
                    owner.into(),
                ],
            )
            .await?;
        tx.commit().await?;
        Ok(job)
    }

    /// Puts the jobs `owner` was running back in the queue at once (a graceful shutdown):
    /// their work was one transaction, rolled back, so the next instance starts them from
    /// nothing without waiting for the lease; the interrupted attempt is not counted.
    pub async fn release_jobs(&self, owner: &str) -> StoreResult<u64> {
        self.execute_autocommit(
            "UPDATE jobs SET status = 'queued', lease_until = NULL, lease_owner = NULL, \
             attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END \
             WHERE status = 'running' AND lease_owner = $1",
            &[owner.into()],
        )
        .await
    }

    /// Extends a running job's lease (the worker's heartbeat).
    /// Only the claim holding it renews it (a lease taken over by another claim is not).
    pub async fn renew_job_lease(&self, claim: &JobClaim) -> StoreResult<()> {
        self.execute_autocommit(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND status = 'running' AND attempts = $3 AND lease_owner = $4",
            &[
                (Utc::now() + Duration::seconds(LEASE_SECONDS)).into(),
                claim.job_id.into(),
                claim.attempts.into(),
                claim.owner.as_str().into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Marks a job failed (nothing of it was applied), with an optional report file. Only the
    /// claim running it may: a job taken up again by another worker meanwhile is left to it.
    pub async fn fail_job(
        &self,
        claim: &JobClaim,
        error: &str,
        report: Option<ResultWriter>,
    ) -> StoreResult<()> {
        // A message quoting a bad line may hold a NUL, which PostgreSQL cannot store.
        let error: String = error
            .chars()
            .map(|c| {
                if crate::domain::is_control_char(c) {
                    '\u{FFFD}'
                } else {
                    c
                }
            })
            .collect();
        let error = error.as_str();
        let mut tx = self.begin().await?;
        if !end_claim(&mut tx, claim, Err(error)).await? {
            // Dropping the transaction rolls it back: nothing of this claim is recorded.
            return Ok(());
        }
        tx.execute(
            "DELETE FROM job_files WHERE job_id = $1 AND kind = 'result'",
            &[claim.job_id.into()],
        )
        .await?;
        if let Some(mut report) = report {
            report.flush(&mut tx, true).await?;
        }
        tx.commit().await
    }

    /// Queues a failed job again (its input is kept).
    pub async fn retry_job(&self, org_id: OrgId, job_id: JobId) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "DELETE FROM job_files WHERE job_id = $1 AND kind = 'result' AND job_id IN (SELECT id FROM jobs WHERE org_id = $2 AND status = 'failed')",
            &[job_id.into(), org_id.into()],
        )
        .await?;
        let n = tx
            .execute(
                "UPDATE jobs SET status = 'queued', error = NULL, finished_at = NULL, attempts = 0 WHERE id = $1 AND org_id = $2 AND status = 'failed'",
                &[job_id.into(), org_id.into()],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict(
                "only a failed job can be retried".into(),
            ));
        }
        tx.commit().await
    }

    pub async fn get_job(&self, org_id: OrgId, job_id: JobId) -> StoreResult<JobRow> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE org_id = $1 AND id = $2");
        self.fetch_optional_read(&sql, &[org_id.into(), job_id.into()])
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// An offer's most recent jobs, newest first.
    pub async fn list_jobs(
        &self,
        org_id: OrgId,
        offer_id: OfferId,
        limit: i64,
    ) -> StoreResult<Vec<JobRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs WHERE org_id = $1 AND offer_id = $2 AND status <> 'receiving' ORDER BY id DESC LIMIT $3"
        );
        self.fetch_all_read(&sql, &[org_id.into(), offer_id.into(), limit.into()])
            .await
    }

    /// Chunk `seq` of a job's file (`input` or `result`), read outside any transaction.
    pub async fn job_file_chunk(
        &self,
        job_id: JobId,
        kind: &str,
        seq: i64,
    ) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .fetch_optional_read::<(Vec<u8>,)>(
                "SELECT data FROM job_files WHERE job_id = $1 AND kind = $2 AND seq = $3",
                &[job_id.into(), kind.into(), seq.into()],
            )
            .await?
            .map(|(data,)| data))
    }

    /// Whether a job has a result file.
    pub async fn job_has_result(&self, job_id: JobId) -> StoreResult<bool> {
        Ok(self.job_file_chunk(job_id, "result", 0).await?.is_some())
    }
}
