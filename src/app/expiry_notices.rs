//! Coupons' expiry notices (seed 001 "expiry notifications"): at 10:00 org time on the first
//! day a customer's coupon is no longer valid, when it expired unused. Load → decide → apply:
//! the store reads the offers with a notice, `domain::offer::notice` decides whose coupons'
//! notices are due now (the last valid day before today's 10:00, or yesterday's when that was
//! missed — the coupon reminders' late and skip rules), and the store queues one message per
//! issue record, once (dedupe keys). The scheduler delivers them.

use crate::domain::offer::describe::date_text;
use crate::domain::offer::notice::noticed_last_day;
use crate::store::Store;
use crate::store::expiry_notices::NoticeWords;
use chrono::{DateTime, Duration, Utc};

/// Queues the notices due at `now`; the number queued.
pub async fn expiry_notices(store: &Store, now: DateTime<Utc>) -> anyhow::Result<u64> {
    // The last day of a coupon noticed now is at most two days before today in any zone.
    let since = (now - Duration::days(3)).date_naive();
    let mut queued = 0;
    for o in store.expiry_notice_offers(since).await? {
        let Some(last_day) = noticed_last_day(o.time_zone.0, now) else {
            continue;
        };
        let expiry = date_text(last_day);
        let discount = o
            .discount
            .words(o.currency.code(), o.currency.minor_digits());
        let subject = format!("Your {} coupon expired on {expiry}", o.name);
        let words = NoticeWords {
            subject: &subject,
            expiry: &expiry,
            discount: &discount,
        };
        queued += store
            .queue_expiry_notices(&o, last_day, &words, now)
            .await?;
    }
    Ok(queued)
}
