//! The messages that deliver issued coupons (issue #18), written in the issue's own
//! transaction: the issue records an issue's writes made are bracketed by watermarks, and one
//! outbox row per record is queued set-based. The flow is `app::issue`; the channel rules are
//! `domain::contacts` and `domain::message`.

use super::StoreResult;
use super::dyntx::{Arg, DynTx};
use crate::domain::ids::{CustomerId, OfferId, OrgId};
use chrono::{DateTime, Utc};

/// The highest issue record id so far (0 when none). Read before and after an issue's writes,
/// it brackets the issue records they made (SQLite's one writer; PostgreSQL's sequence hands
/// out increasing values, and this transaction sees its own rows), which is how
/// `queue_issued` finds them.
pub async fn issual_watermark(tx: &mut DynTx) -> StoreResult<i64> {
    let (max,): (Option<i64>,) = tx.fetch_one("SELECT MAX(id) FROM issuals", &[]).await?;
    Ok(max.unwrap_or(0))
}

/// The message delivering the coupon `coupon` issued to `customer`.
pub struct IssuedMessage<'a> {
    pub coupon: i64,
    pub customer: CustomerId,
    pub channel: &'static str,
    pub recipient: &'a str,
    pub body_text: &'a str,
}

/// Messages per insert of `queue_issued` (5 bound values each).
const MESSAGES_PER_INSERT: usize = 1000;

/// Queues the messages that deliver issued coupons to their customers (issue #18): one outbox
/// row of kind `issued` per issue record with an id in `issuals` (the watermarks before and
/// after the writes, `(before, after]`) whose (coupon, customer) has a message — a
/// common code issued twice to one customer gets two — keyed `issued:{issual id}` so that each
/// goes out exactly once, in issue order. Set-based: the messages are joined to their issue
/// records in one `INSERT … SELECT` per 1,000, in the transaction. A coupon is one
/// offer's, so the coupon finds the offer's records. Returns how many were queued.
pub async fn queue_issued(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    issuals: (i64, i64),
    subject: &str,
    messages: &[IssuedMessage<'_>],
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut queued = 0;
    for chunk in messages.chunks(MESSAGES_PER_INSERT) {
        let mut args: Vec<Arg> = vec![
            org_id.into(),
            offer_id.into(),
            subject.into(),
            now.into(),
            issuals.0.into(),
            issuals.1.into(),
        ];
        let mut tuples = Vec::with_capacity(chunk.len());
        for m in chunk {
            let n = args.len();
            tuples.push(format!(
                "(${}, ${}, ${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5
            ));
            args.extend([
                Arg::I64(m.coupon),
                m.customer.into(),
                m.channel.into(),
                m.recipient.into(),
                m.body_text.into(),
            ]);
        }
        // SQLite: `CROSS JOIN` keeps the messages the outer loop, each finding its issue
        // records through `issuals_customer`. PostgreSQL: the id range lets it read just the
        // issue's records by primary key (with `offer_id` it took the offer's whole
        // `issuals_offer_till` slice, and without the range a sequential scan, every chunk).
        let range = tx.dialect().id_range("i.id", 5, 6);
        queued += tx
            .execute(
                &format!(
                    "WITH v(coupon, customer, channel, recipient, body) AS (VALUES {}) \
                     INSERT INTO outbox (org_id, kind, channel, recipient, subject, body_text, status, attempts, \
                     next_attempt_at, offer_id, dedupe_key, created_at) \
                     SELECT $1, 'issued', v.channel, v.recipient, $3, v.body, 'queued', 0, $4, $2, \
                     'issued:' || CAST(i.id AS TEXT), $4 FROM v CROSS JOIN issuals i \
                     WHERE i.customer_id = v.customer AND i.coupon_id = v.coupon AND i.id > $5 AND i.id <= $6{range} \
                     ORDER BY i.id ON CONFLICT (dedupe_key) DO NOTHING",
                    tuples.join(",")
                ),
                &args,
            )
            .await?;
    }
    Ok(queued)
}
