//! Writing uploaded codes (COD-3) inside the upload job's transaction: the codes (issued at
//! once when the file names their customers), their issue records, the offer's counters.

use super::StoreResult;
use super::dyntx::{Arg, DynTx};
use crate::domain::ids::{CustomerId, OfferId, OrgId};
use chrono::{DateTime, NaiveDate, Utc};

/// `$1`…`$5` of both upload statements: org, offer, source, when, valid till.
fn upload_args(
    org_id: OrgId,
    offer_id: OfferId,
    source: &str,
    now: DateTime<Utc>,
    valid_till: Option<NaiveDate>,
) -> Vec<Arg> {
    vec![
        org_id.into(),
        offer_id.into(),
        source.into(),
        now.into(),
        valid_till.into(),
    ]
}

/// Inserts codes of an offer, each `(code, customer)` issued to its customer when it has one;
/// a code already in the org — a coupon's or a cart promotion's — is skipped. The rows
/// written: (id, code, customer).
pub async fn insert_codes(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    source: &str,
    now: DateTime<Utc>,
    valid_till: Option<NaiveDate>,
    rows: &[(&str, Option<CustomerId>)],
) -> StoreResult<Vec<(i64, String, Option<CustomerId>)>> {
    let mut look: Vec<Arg> = vec![org_id.into()];
    look.extend(rows.iter().map(|(code, _)| Arg::from(*code)));
    let promotion_codes: Vec<(String,)> = if rows.is_empty() {
        Vec::new()
    } else {
        tx.fetch_all(
            &format!(
                "SELECT code FROM promotion_codes WHERE org_id = $1 AND code IN ({})",
                super::dyntx::placeholders(2, rows.len())
            ),
            &look,
        )
        .await?
    };
    let rows: Vec<&(&str, Option<CustomerId>)> = rows
        .iter()
        .filter(|(code, _)| !promotion_codes.iter().any(|p| p.0 == *code))
        .collect();
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = upload_args(org_id, offer_id, source, now, valid_till);
    let mut tuples = Vec::with_capacity(rows.len());
    for (i, (code, customer)) in rows.iter().enumerate() {
        let (c, k) = (6 + 2 * i, 7 + 2 * i);
        args.push(Arg::Text(code.to_string()));
        args.push(Arg::from(*customer));
        tuples.push(match customer {
            Some(_) => format!("($1, $2, ${c}, $3, 'issued', ${k}, $4, $5)"),
            None => format!("($1, $2, ${c}, $3, 'unissued', ${k}, NULL, NULL)"),
        });
    }
    tx.fetch_all(
        &format!(
            "INSERT INTO coupons (org_id, offer_id, code, source, status, customer_id, issued_at, valid_till) VALUES {} \
             ON CONFLICT (org_id, code) DO NOTHING RETURNING id, code, customer_id",
            tuples.join(",")
        ),
        &args,
    )
    .await
}

/// One issue record per (coupon, customer) of an upload.
pub async fn insert_issuals(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    source: &str,
    now: DateTime<Utc>,
    valid_till: Option<NaiveDate>,
    issued: &[(i64, CustomerId)],
) -> StoreResult<()> {
    let mut args = upload_args(org_id, offer_id, source, now, valid_till);
    let tuples: Vec<String> = issued
        .iter()
        .enumerate()
        .map(|(i, (coupon, customer))| {
            args.push(Arg::I64(*coupon));
            args.push(Arg::from(*customer));
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
    Ok(())
}

/// Counts an upload's codes (and those issued with it) on its offer.
pub async fn count_upload(
    tx: &mut DynTx,
    offer_id: OfferId,
    written: u64,
    issued: u64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE offers SET coupon_count = coupon_count + $1, issued_count = issued_count + $2, \
         last_issued_at = CASE WHEN $2 > 0 THEN $3 ELSE last_issued_at END WHERE id = $4",
        &[
            Arg::I64(written as i64),
            Arg::I64(issued as i64),
            Arg::Time(now),
            offer_id.into(),
        ],
    )
    .await?;
    Ok(())
}
