//! COD-3 as a job: an uploaded code file checked line by line and written all or nothing.

use super::*;
use crate::domain::coupon::CouponCode;
use crate::domain::ids::CustomerId;

/// One line of a code upload, checked.
struct UploadRow {
    line: u64,
    code: CouponCode,
    customer: Option<CustomerRef>,
}

/// COD-3: every line checked (blank, too long, bad characters, repeated in the file, already
/// in the org, bad customer) and reported with its number; all lines or none applied.
pub(super) async fn upload_codes(
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
    let mut seen: HashMap<CouponCode, u64> = HashMap::new();
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
    crate::store::uploads::count_upload(&mut tx, ctx.offer_id, written, issued, now).await?;
    let codes = crate::domain::money::plural(written as i64, "code", "codes");
    let summary = if with_customers {
        format!("Uploaded {codes} and issued them to their customers")
    } else {
        format!("Uploaded {codes}")
    };
    audit(&mut tx, ctx, actor, "coupons.uploaded", &summary).await?;
    finish_job(&mut tx, &running.claim, &summary).await?;
    tx.commit().await?;
    Ok(Ok(()))
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
        let rows: Vec<(&str, Option<CustomerId>)> = batch
            .iter()
            .map(|r| {
                (
                    r.code.as_str(),
                    r.customer.as_ref().and_then(|c| ids.get(c).copied()),
                )
            })
            .collect();
        let inserted = crate::store::uploads::insert_codes(
            tx,
            ctx.org_id,
            ctx.offer_id,
            source,
            now,
            valid_till,
            &rows,
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
        let issued: Vec<(i64, CustomerId)> = inserted
            .iter()
            .filter_map(|(id, _, customer)| customer.map(|c| (*id, c)))
            .collect();
        if !issued.is_empty() {
            let delivers = ctx.rules.delivery == crate::domain::offer::Delivery::ThisSystem;
            let watermark = if delivers {
                crate::store::issue_delivery::issual_watermark(tx).await?
            } else {
                0
            };
            crate::store::uploads::insert_issuals(
                tx,
                ctx.org_id,
                ctx.offer_id,
                source,
                now,
                valid_till,
                &issued,
            )
            .await?;
            totals.1 += issued.len() as u64;
            // An offer delivered by this system sends each coupon to its customer.
            if delivers {
                let who: HashMap<CustomerId, &CustomerRef> =
                    ids.iter().map(|(r, id)| (*id, r)).collect();
                let delivered: Vec<crate::app::issue::ToDeliver<'_>> = inserted
                    .iter()
                    .filter_map(|(coupon, code, customer)| {
                        let customer = (*customer)?;
                        Some(crate::app::issue::ToDeliver {
                            coupon: *coupon,
                            code,
                            customer,
                            who: who.get(&customer)?,
                        })
                    })
                    .collect();
                crate::app::issue::deliver_uploaded(
                    tx, ctx, &delivered, valid_till, watermark, now,
                )
                .await?;
            }
        }
    }
    pending.clear();
    Ok(())
}
