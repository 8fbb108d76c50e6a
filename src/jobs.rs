//! The background job worker (ISS-5): generation, code uploads and bulk issues. `serve` runs
//! one worker; each job is claimed with a lease (renewed while it runs), its work and its
//! `done` mark are one transaction, and a job whose process died is claimed again when the
//! lease runs out, starting from nothing.

use crate::domain::coupon::{CodeFormat, check_code_space, coupon_valid_till, parse_upload_code};
use crate::domain::issue::CustomerRef;
use crate::domain::masters::{CsvLines, IdentifierType, LineError, LineSplitter};
use crate::domain::offer::Generation;
use crate::domain::user::Actor;
use crate::store::dyntx::{Arg, DynTx};
use crate::store::issue::{ISSUE_CHUNK, IssueContext, IssueSource, customer_ids, issue_chunk};
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
    running: Arc<Mutex<HashMap<i64, Arc<JobProgress>>>>,
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
            owner: Arc::from("run-jobs"),
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
    pub fn progress(&self, job_id: i64) -> Option<(u64, u64)> {
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

    /// Claims and runs one due job as of `now`; its id, or `None` when none is due.
    #[tracing::instrument(name = "jobs.run_once", skip_all)]
    pub async fn run_once(&self, now: DateTime<Utc>) -> StoreResult<Option<i64>> {
        let Some(job) = self.store.claim_job(now, &self.owner).await? else {
            return Ok(None);
        };
        if job.attempts > MAX_ATTEMPTS {
            self.store
                .fail_job(
                    job.id,
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
            let (store, id) = (self.store.clone(), job.id);
            AbortOnDrop(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    if let Err(e) = store.renew_job_lease(id).await {
                        tracing::warn!(job = id, error = %e, "renewing a job lease failed");
                    }
                }
            }))
        };
        let running = RunningJob {
            id: job.id,
            progress,
        };
        tracing::info!(job = job.id, kind = %job.kind, "job started");
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
                tracing::info!(job = job.id, "job done");
                Ok(())
            }
            Ok(Err(refused)) => {
                tracing::info!(job = job.id, "job refused its input");
                self.store
                    .fail_job(job.id, &refused.message, refused.report)
                    .await
            }
            Err(e) => {
                tracing::error!(job = job.id, error = %e, "job failed");
                self.store
                    .fail_job(
                        job.id,
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
            tracing::error!(job = job.id, error = %e, "recording the job's failure failed");
            self.store
                .fail_job(
                    job.id,
                    "the job failed and its report could not be stored; nothing was applied — check the file and retry",
                    None,
                )
                .await?;
        }
        Ok(Some(job.id))
    }

    async fn execute(&self, job: &JobRow, running: &RunningJob) -> JobResult {
        let ctx = self.store.issue_context(job.org_id, job.offer_id).await?;
        let actor = Actor {
            user_id: job.created_by,
            label: serde_json::from_str::<serde_json::Value>(&job.params)
                .ok()
                .and_then(|v| v.get("actor")?.as_str().map(str::to_string))
                .unwrap_or_else(|| "system".into()),
        };
        match job.kind() {
            Some(JobKind::Generate) => self.generate(job, running, &ctx, &actor).await,
            Some(JobKind::UploadCodes) => {
                upload_codes(&self.store, job, running, &ctx, &actor).await
            }
            Some(JobKind::BulkIssue) => bulk_issue(&self.store, job, running, &ctx, &actor).await,
            None => Ok(Err(Refused {
                message: format!("unknown job kind {}", job.kind),
                report: None,
            })),
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
fn refuse_lines(job_id: i64, mut errors: Vec<LineError>, total: u64) -> Refused {
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

/// One line of a code upload, checked.
struct UploadRow {
    line: u64,
    code: String,
    customer: Option<CustomerRef>,
}

fn parse_customer(kind: &str, value: &str) -> Result<CustomerRef, String> {
    let kind = IdentifierType::parse(kind)
        .ok_or_else(|| format!("type must be MOBILE, EMAIL or EXTERNAL_ID, not `{kind}`"))?;
    CustomerRef::parse(kind, value)
}

/// COD-3: every line checked (blank, too long, bad characters, repeated in the file, already
/// in the org, bad customer) and reported with its number; all lines or none applied.
async fn upload_codes(
    store: &Store,
    job: &JobRow,
    running: &RunningJob,
    ctx: &IssueContext,
    actor: &Actor,
) -> JobResult {
    let with_customers = job.param_bool("with_customers");
    let header: &[&str] = if with_customers {
        &["code", "type", "value"]
    } else {
        &["code"]
    };
    running.progress.set_total(job.input_bytes.max(0) as u64);
    if with_customers
        && let Err(refusal) = crate::domain::issue::check_issuer(
            &ctx.claimed_by,
            &ctx.rules.expiry,
            job.param_i64("consumer"),
        )
    {
        return Ok(Err(Refused {
            message: format!("Nothing was uploaded: these codes would be issued, and {refusal}."),
            report: None,
        }));
    }
    let now = Utc::now();
    let source = format!("upload #{} by {}", job.id, actor.label);
    let mut csv = CsvLines::new(header);
    let mut lines = LineSplitter::default();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut pending: Vec<UploadRow> = Vec::new();
    let mut totals = (0u64, 0u64);
    let mut tx = store.begin().await?;
    let mut take = |line: u64, f: &[&str], pending: &mut Vec<UploadRow>| -> Result<(), String> {
        let code = parse_upload_code(f[0])?;
        let customer = if with_customers {
            Some(parse_customer(f[1], f[2])?)
        } else {
            None
        };
        if let Some(first) = seen.get(&code) {
            return Err(format!(
                "the code {code} is repeated (first on line {first})"
            ));
        }
        seen.insert(code.clone(), line);
        pending.push(UploadRow {
            line,
            code,
            customer,
        });
        Ok(())
    };
    let mut seq = 0;
    while let Some(chunk) = input_chunk(&mut tx, job.id, seq).await? {
        seq += 1;
        lines.feed(&chunk, |n, l| {
            csv.line(n, l, &mut |line, f: &[&str]| take(line, f, &mut pending))
        });
        write_uploaded(
            &mut tx,
            ctx,
            &mut pending,
            &mut csv,
            now,
            &source,
            &mut totals,
        )
        .await?;
        running.progress.add(chunk.len() as u64);
    }
    lines.finish(|n, l| csv.line(n, l, &mut |line, f: &[&str]| take(line, f, &mut pending)));
    write_uploaded(
        &mut tx,
        ctx,
        &mut pending,
        &mut csv,
        now,
        &source,
        &mut totals,
    )
    .await?;
    let total_errors = csv.error_count();
    let errors = csv.finish();
    if !errors.is_empty() {
        // Dropping the transaction rolls every written code back.
        return Ok(Err(refuse_lines(job.id, errors, total_errors.max(1))));
    }
    let (written, issued) = totals;
    tx.execute(
        "UPDATE offers SET coupon_count = coupon_count + $1, issued_count = issued_count + $2, \
         last_issued_at = CASE WHEN $2 > 0 THEN $3 ELSE last_issued_at END WHERE id = $4",
        &[
            Arg::I64(written as i64),
            Arg::I64(issued as i64),
            Arg::Time(now),
            Arg::I64(ctx.offer_id),
        ],
    )
    .await?;
    let codes = crate::domain::money::plural(written as i64, "code", "codes");
    let summary = if with_customers {
        format!("Uploaded {codes} and issued them to their customers")
    } else {
        format!("Uploaded {codes}")
    };
    audit(&mut tx, ctx, actor, "coupons.uploaded", &summary).await?;
    finish_job(&mut tx, job.id, &summary).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

async fn audit(
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
            entity_id: Some(ctx.offer_id),
            summary: summary.to_string(),
            details: None,
        },
    )
    .await
}

/// Writes checked upload rows; a code already in the org becomes a line error.
async fn write_uploaded(
    tx: &mut DynTx,
    ctx: &IssueContext,
    pending: &mut Vec<UploadRow>,
    csv: &mut CsvLines,
    now: DateTime<Utc>,
    source: &str,
    totals: &mut (u64, u64),
) -> StoreResult<()> {
    let valid_till = coupon_valid_till(now, ctx.rules.coupon_expiry, ctx.ends_on, ctx.tz);
    for batch in pending.chunks(ISSUE_CHUNK) {
        let customers: Vec<CustomerRef> = batch.iter().filter_map(|r| r.customer.clone()).collect();
        let ids = if customers.is_empty() {
            HashMap::new()
        } else {
            customer_ids(tx, ctx.org_id, &customers, now).await?
        };
        let mut args: Vec<Arg> = vec![
            ctx.org_id.into(),
            ctx.offer_id.into(),
            source.into(),
            now.into(),
            valid_till.into(),
        ];
        let mut tuples = Vec::with_capacity(batch.len());
        for (i, row) in batch.iter().enumerate() {
            let (c, k) = (6 + 2 * i, 7 + 2 * i);
            args.push(Arg::Text(row.code.clone()));
            match row.customer.as_ref().and_then(|c| ids.get(c)) {
                Some(id) => {
                    args.push(Arg::I64(*id));
                    tuples.push(format!("($1, $2, ${c}, $3, 'issued', ${k}, $4, $5)"));
                }
                None => {
                    args.push(Arg::OptI64(None));
                    tuples.push(format!("($1, $2, ${c}, $3, 'unissued', ${k}, NULL, NULL)"));
                }
            }
        }
        let inserted: Vec<(i64, String, Option<i64>)> = tx
            .fetch_all(
                &format!(
                    "INSERT INTO coupons (org_id, offer_id, code, source, status, customer_id, issued_at, valid_till) VALUES {} \
                     ON CONFLICT (org_id, code) DO NOTHING RETURNING id, code, customer_id",
                    tuples.join(",")
                ),
                &args,
            )
            .await?;
        let fresh: HashSet<&str> = inserted.iter().map(|(_, c, _)| c.as_str()).collect();
        for row in batch {
            if !fresh.contains(row.code.as_str()) {
                csv.error(
                    row.line,
                    format!("the code {} already exists in this organisation", row.code),
                );
            }
        }
        totals.0 += inserted.len() as u64;
        let issued: Vec<(i64, i64)> = inserted
            .iter()
            .filter_map(|(id, _, customer)| customer.map(|c| (*id, c)))
            .collect();
        if !issued.is_empty() {
            let mut args: Vec<Arg> = vec![
                ctx.org_id.into(),
                ctx.offer_id.into(),
                source.into(),
                now.into(),
                valid_till.into(),
            ];
            let tuples: Vec<String> = issued
                .iter()
                .enumerate()
                .map(|(i, (coupon, customer))| {
                    args.push(Arg::I64(*coupon));
                    args.push(Arg::I64(*customer));
                    format!("($1, $2, ${}, ${}, $4, $5, $3)", 6 + 2 * i, 7 + 2 * i)
                })
                .collect();
            tx.execute(
                &format!(
                    "INSERT INTO issuals (org_id, offer_id, coupon_id, customer_id, issued_at, valid_till, source) VALUES {}",
                    tuples.join(",")
                ),
                &args,
            )
            .await?;
            totals.1 += issued.len() as u64;
        }
    }
    pending.clear();
    Ok(())
}

/// ISS-1 in bulk: the audience file is checked whole first (bad lines refuse it), then every
/// customer is issued a coupon or refused by a named rule, in one transaction, with a result
/// file of one line per customer.
async fn bulk_issue(
    store: &Store,
    job: &JobRow,
    running: &RunningJob,
    ctx: &IssueContext,
    actor: &Actor,
) -> JobResult {
    let bytes = job.input_bytes.max(0) as u64;
    running.progress.set_total(bytes * 2);
    // Pass 1: check every line, reading outside the write transaction.
    let mut csv = CsvLines::with_optional(&["type", "value"], &["first_name"]);
    let mut lines = LineSplitter::default();
    let mut check = |_: u64, f: &[&str]| {
        if f.get(2).is_some_and(|n| n.chars().count() > 100) {
            return Err("the first name may have at most 100 characters".to_string());
        }
        parse_customer(f[0], f[1]).map(|_| ())
    };
    let mut seq = 0;
    while let Some(chunk) = store.job_file_chunk(job.id, "input", seq).await? {
        seq += 1;
        lines.feed(&chunk, |n, l| csv.line(n, l, &mut check));
        running.progress.add(chunk.len() as u64);
    }
    lines.finish(|n, l| csv.line(n, l, &mut check));
    let total_errors = csv.error_count();
    let errors = csv.finish();
    if !errors.is_empty() {
        return Ok(Err(refuse_lines(job.id, errors, total_errors.max(1))));
    }

    // Pass 2: issue, all in one transaction.
    store.renew_job_lease(job.id).await?;
    let source = IssueSource {
        label: format!("bulk issue #{} by {}", job.id, actor.label),
        // The consumer the job was started for (its API key, or the console from its page).
        consumer: job.param_i64("consumer"),
    };
    let now = Utc::now();
    let mut tx = store.begin().await?;
    let mut result = ResultWriter::new(job.id, "line,type,value,result,code,valid_till,reason");
    let mut counts = (0u64, 0u64);
    let mut batch: Vec<(u64, CustomerRef, String)> = Vec::with_capacity(ISSUE_CHUNK);
    let mut csv = CsvLines::with_optional(&["type", "value"], &["first_name"]);
    let mut lines = LineSplitter::default();
    let mut seq = 0;
    loop {
        let chunk = input_chunk(&mut tx, job.id, seq).await?;
        seq += 1;
        let mut rows: Vec<(u64, CustomerRef, String)> = Vec::new();
        let mut take = |line: u64, f: &[&str]| {
            let name = f.get(2).map(|n| n.to_string()).unwrap_or_default();
            rows.push((line, parse_customer(f[0], f[1])?, name));
            Ok(())
        };
        let last = match &chunk {
            Some(c) => {
                lines.feed(c, |n, l| csv.line(n, l, &mut take));
                false
            }
            None => {
                std::mem::take(&mut lines).finish(|n, l| csv.line(n, l, &mut take));
                true
            }
        };
        for row in rows {
            batch.push(row);
            if batch.len() == ISSUE_CHUNK {
                issue_rows(
                    &mut tx,
                    ctx,
                    &mut batch,
                    &source,
                    now,
                    &mut result,
                    &mut counts,
                )
                .await?;
            }
        }
        if last {
            issue_rows(
                &mut tx,
                ctx,
                &mut batch,
                &source,
                now,
                &mut result,
                &mut counts,
            )
            .await?;
        }
        result.flush(&mut tx, last).await?;
        if let Some(c) = &chunk {
            running.progress.add(c.len() as u64);
        }
        if last {
            break;
        }
    }
    let (issued, refused) = counts;
    let summary = format!(
        "Issued {}; {} refused",
        crate::domain::money::plural(issued as i64, "coupon", "coupons"),
        crate::domain::money::plural(refused as i64, "customer", "customers")
    );
    audit(&mut tx, ctx, actor, "coupons.bulk_issued", &summary).await?;
    finish_job(&mut tx, job.id, &summary).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Issues one chunk of a bulk issue and writes its result lines.
async fn issue_rows(
    tx: &mut DynTx,
    ctx: &IssueContext,
    batch: &mut Vec<(u64, CustomerRef, String)>,
    source: &IssueSource,
    now: DateTime<Utc>,
    result: &mut ResultWriter,
    counts: &mut (u64, u64),
) -> StoreResult<()> {
    let customers: Vec<CustomerRef> = batch.iter().map(|(_, c, _)| c.clone()).collect();
    let outcomes = issue_chunk(tx, ctx, &customers, source, now).await?;
    // First names from the file's optional `first_name` column, for `{first_name}`.
    let names: Vec<(CustomerRef, String)> = batch
        .iter()
        .filter(|(_, _, n)| !n.trim().is_empty())
        .map(|(_, c, n)| (c.clone(), n.clone()))
        .collect();
    crate::store::issue::set_first_names_in(tx, ctx.org_id, &names, now).await?;
    for ((line, customer, _), outcome) in batch.iter().zip(outcomes) {
        let line = line.to_string();
        match outcome {
            Ok(issued) => {
                counts.0 += 1;
                let till = issued.valid_till.map(|d| d.to_string()).unwrap_or_default();
                result.record(&[
                    &line,
                    customer.kind.as_str(),
                    &customer.value,
                    "issued",
                    &issued.code,
                    &till,
                    "",
                ]);
            }
            Err(refusal) => {
                counts.1 += 1;
                result.record(&[
                    &line,
                    customer.kind.as_str(),
                    &customer.value,
                    "refused",
                    "",
                    "",
                    &format!("{}: {refusal}", refusal.code()),
                ]);
            }
        }
    }
    batch.clear();
    Ok(())
}
