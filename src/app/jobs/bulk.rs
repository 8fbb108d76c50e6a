//! ISS-1 in bulk as a job: an audience file checked whole, then issued in chunks, with a
//! result file of one line per customer.

use super::*;

/// ISS-1 in bulk: the audience file is checked whole first (bad lines refuse it), then every
/// customer is issued a coupon or refused by a named rule, in one transaction, with a result
/// file of one line per customer.
pub(super) async fn bulk_issue(
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
    store.renew_job_lease(&running.claim).await?;
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
    finish_job(&mut tx, &running.claim, &summary).await?;
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
    // First names from the file's optional `first_name` column, for `{first_name}`: kept
    // before the issue, so that the messages delivering the coupons greet them by name.
    let names: Vec<(CustomerRef, String)> = batch
        .iter()
        .filter(|(_, _, n)| !n.trim().is_empty())
        .map(|(_, c, n)| (c.clone(), n.clone()))
        .collect();
    crate::store::customers::set_first_names_in(tx, ctx.org_id, &names, now).await?;
    let outcomes = issue_chunk(tx, ctx, &customers, source, now).await?;
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
