//! The background use cases (ISS-5) and their worker: code generation (here), code uploads
//! (`upload.rs`) and bulk issues (`bulk.rs`). `serve` runs one worker; each job is claimed with a lease (renewed while it runs), its work and its
//! `done` mark are one transaction, and a job whose process died is claimed again when the
//! lease runs out, starting from nothing.

use crate::app::issue::{IssueContext, IssueSource, issue_chunk};
use crate::domain::coupon::{CodeFormat, check_code_space, coupon_valid_till, parse_upload_code};
use crate::domain::ids::JobId;
use crate::domain::issue::CustomerRef;
use crate::domain::masters::{CsvLines, IdentifierType, LineError, LineSplitter};
use crate::domain::offer::Generation;
use crate::domain::user::Actor;
use crate::store::dyntx::DynTx;
use crate::store::issue::{ISSUE_CHUNK, customer_ids};
use crate::store::jobs::*;
use crate::store::{AuditEntry, Store, StoreResult};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// Line errors shown with a refused job; all of them are in its report file.
const ERRORS_SHOWN: usize = 20;

/// The job worker and the progress of the jobs it runs.
#[derive(Clone)]
pub struct Jobs {
    store: Store,
    running: Arc<Mutex<HashMap<JobId, Arc<JobProgress>>>>,
    /// This instance, recorded as the owner of the leases it takes.
    owner: Arc<str>,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs").finish_non_exhaustive()
    }
}

/// Stops the lease heartbeat however the job's future ends (also when it is dropped).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Why a job applied nothing, for the person who started it.
struct Refused {
    message: String,
    report: Option<ResultWriter>,
}

type JobResult = StoreResult<Result<(), Refused>>;

impl Jobs {
    pub fn new(store: Store) -> Jobs {
        Jobs {
            store,
            running: Arc::default(),
            // Unique per worker: a claim is told from an older one by its worker and attempt.
            owner: Arc::from(format!("run-jobs-{}", rand::random::<u64>()).as_str()),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Tells the worker a job was queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The worker of instance `owner` (its heartbeat id): the leases it takes name it.
    pub fn owned_by(mut self, owner: &str) -> Jobs {
        self.owner = Arc::from(owner);
        self
    }

    /// The instance whose leases this worker takes.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// (done, total) of a job this process is running.
    pub fn progress(&self, job_id: JobId) -> Option<(u64, u64)> {
        let running = self.running.lock().ok()?;
        running.get(&job_id).map(|p| p.get())
    }

    /// Runs jobs as they are queued until the process ends.
    pub fn spawn(&self) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                match me.run_once(Utc::now()).await {
                    Ok(Some(_)) => continue,
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "job worker: claiming a job failed"),
                }
                tokio::select! {
                    _ = me.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                }
            }
        })
    }

    /// Runs due jobs as of `now`, one after another on the caller's task, until none is
    /// left; how many ran. For an instance without the worker (tests drive jobs this way).
    pub async fn run_until_idle(&self, now: DateTime<Utc>) -> StoreResult<usize> {
        let mut ran = 0;
        while self.run_once(now).await?.is_some() {
            ran += 1;
        }
        Ok(ran)
    }

    /// Claims and runs one due job as of `now`; its id, or `None` when none is due.
    #[tracing::instrument(name = "jobs.run_once", skip_all)]
    pub async fn run_once(&self, now: DateTime<Utc>) -> StoreResult<Option<JobId>> {
        let Some(job) = self.store.claim_job(now, &self.owner).await? else {
            return Ok(None);
        };
        let claim = JobClaim {
            job_id: job.id,
            attempts: job.attempts,
            owner: self.owner.to_string(),
        };
        if job.attempts > MAX_ATTEMPTS {
            self.store
                .fail_job(
                    &claim,
                    &format!(
                        "the job was interrupted {MAX_ATTEMPTS} times and nothing was applied; retry it"
                    ),
                    None,
                )
                .await?;
            return Ok(Some(job.id));
        }
        let progress = Arc::new(JobProgress::default());
        if let Ok(mut running) = self.running.lock() {
            running.insert(job.id, progress.clone());
        }
        let heartbeat = {
            let (store, id, claim) = (self.store.clone(), job.id, claim.clone());
            AbortOnDrop(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    if let Err(e) = store.renew_job_lease(&claim).await {
                        tracing::warn!(job = id.get(), error = %e, "renewing a job lease failed");
                    }
                }
            }))
        };
        let running = RunningJob {
            id: job.id,
            claim: claim.clone(),
            progress,
        };
        tracing::info!(job = %job.id, kind = job.kind.as_str(), "job started");
        let outcome = self.execute(&job, &running).await;
        drop(heartbeat);
        if let Ok(mut r) = self.running.lock() {
            r.remove(&job.id);
        }
        crate::metrics::metrics()
            .jobs
            .with_label_values(&[
                job.kind.as_str(),
                if matches!(outcome, Ok(Ok(()))) {
                    "done"
                } else {
                    "failed"
                },
            ])
            .inc();
        let recorded = match outcome {
            Ok(Ok(())) => {
                tracing::info!(job = %job.id, "job done");
                Ok(())
            }
            Ok(Err(refused)) => {
                tracing::info!(job = %job.id, "job refused its input");
                self.store
                    .fail_job(&claim, &refused.message, refused.report)
                    .await
            }
            Err(e) if e.is_interruption() => {
                // The database went away under the job (a connection lost, this process
                // stopping): like a crash, nothing was applied and the job keeps its lease —
                // given back at once by a graceful stop, or taken up when the lease runs out.
                tracing::warn!(job = %job.id, error = %e, "job interrupted; left to its lease");
                Ok(())
            }
            Err(e) => {
                tracing::error!(job = %job.id, error = %e, "job failed");
                self.store
                    .fail_job(
                        &claim,
                        &format!(
                            "the job stopped on an error and nothing was applied ({e}); retry it"
                        ),
                        None,
                    )
                    .await
            }
        };
        if let Err(e) = recorded {
            // The refusal itself could not be stored (its report, its text): the job still
            // ends failed, never `running` for ever.
            tracing::error!(job = %job.id, error = %e, "recording the job's failure failed");
            self.store
                .fail_job(
                    &claim,
                    "the job failed and its report could not be stored; nothing was applied — check the file and retry",
                    None,
                )
                .await?;
        }
        Ok(Some(job.id))
    }

    async fn execute(&self, job: &JobRow, running: &RunningJob) -> JobResult {
        let ctx = crate::app::issue::context(&self.store, job.org_id, job.offer_id).await?;
        let actor = Actor {
            user_id: job.created_by,
            label: serde_json::from_str::<serde_json::Value>(&job.params)
                .ok()
                .and_then(|v| v.get("actor")?.as_str().map(str::to_string))
                .unwrap_or_else(|| "system".into()),
        };
        match job.kind {
            JobKind::Generate => self.generate(job, running, &ctx, &actor).await,
            JobKind::UploadCodes => {
                upload::upload_codes(&self.store, job, running, &ctx, &actor).await
            }
            JobKind::BulkIssue => bulk::bulk_issue(&self.store, job, running, &ctx, &actor).await,
        }
    }

    async fn generate(
        &self,
        job: &JobRow,
        running: &RunningJob,
        ctx: &IssueContext,
        actor: &Actor,
    ) -> JobResult {
        let count = job.param_u64("count").unwrap_or(0);
        let format: CodeFormat = match (&ctx.rules.generation, &ctx.on_demand) {
            (Generation::Unique { .. }, Some(f)) => f.clone(),
            _ => {
                return Ok(Err(Refused {
                    message: "only offers with generated unique codes can generate codes".into(),
                    report: None,
                }));
            }
        };
        let existing = self
            .store
            .get_offer(ctx.org_id, ctx.offer_id)
            .await?
            .coupon_count;
        if let Err(e) = check_code_space(&format, count, existing.max(0) as u64) {
            return Ok(Err(Refused {
                message: e.to_string(),
                report: None,
            }));
        }
        self.store
            .generate_codes(
                ctx.org_id,
                ctx.offer_id,
                &format,
                count,
                actor,
                Some(running),
            )
            .await?;
        Ok(Ok(()))
    }
}

/// The refusal of an input with bad lines: the first few in the message, all in the report.
fn refuse_lines(job_id: JobId, mut errors: Vec<LineError>, total: u64) -> Refused {
    errors.sort_by_key(|e| e.line);
    let mut message = format!(
        "{total} line{} of the file {} problems; nothing was applied.",
        if total == 1 { "" } else { "s" },
        if total == 1 { "has" } else { "have" }
    );
    for e in errors.iter().take(ERRORS_SHOWN) {
        message.push_str(&format!("\nLine {}: {}", e.line, e.message));
    }
    if total as usize > ERRORS_SHOWN {
        message.push_str("\nEvery line is in the report.");
    }
    let mut report = ResultWriter::new(job_id, "line,error");
    for e in &errors {
        report.record(&[&e.line.to_string(), &e.message]);
    }
    Refused {
        message,
        report: Some(report),
    }
}

pub(super) fn parse_customer(kind: &str, value: &str) -> Result<CustomerRef, String> {
    let kind = IdentifierType::parse(kind)
        .ok_or_else(|| format!("type must be MOBILE, EMAIL or EXTERNAL_ID, not `{kind}`"))?;
    CustomerRef::parse(kind, value)
}

pub(super) async fn audit(
    tx: &mut DynTx,
    ctx: &IssueContext,
    actor: &Actor,
    action: &'static str,
    summary: &str,
) -> StoreResult<()> {
    crate::store::audit::record_dyn(
        tx,
        AuditEntry {
            org_id: ctx.org_id,
            actor,
            action,
            entity_type: "offer",
            entity_id: Some(ctx.offer_id.get()),
            summary: summary.to_string(),
            details: None,
        },
    )
    .await
}

mod bulk;
mod upload;
