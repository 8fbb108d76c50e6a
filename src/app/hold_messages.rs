//! Messages about promotions customers hold (seed 003 "Communication"): one on earning or
//! acquiring (queued in the transaction that makes the hold, keyed by the hold), and a
//! reminder N days before the hold's window ends, at 10:00 org time, when the customer has not
//! used it since getting it (once per hold, whatever its `daysBefore` becomes). Both go to the promotion's
//! channel — by default the customer's preferred one — and through the outbox, so each goes
//! once however many instances run the scheduler.

use crate::domain::offer::describe::date_text;
use crate::domain::promotion::holding::{fill, last_day, route};
use crate::domain::promotion::{Kind, Promotion, local_midnight};
use crate::domain::reminder::coupon_reminder_day;
use crate::store::dyntx::DynTx;
use crate::store::holds::{NewHold, org_brand_name};
use crate::store::outbox::{NewMessage, insert_message};
use crate::store::{Store, StoreResult};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

/// Until when a hold lasts, in words: its last day, or "the promotion ends".
fn until_words(valid_till: Option<DateTime<Utc>>, tz: Tz) -> String {
    valid_till.map_or_else(
        || "the end of the promotion".to_string(),
        |t| date_text(last_day(t, tz)),
    )
}

/// Queues the message on earning of `p`, if it has one and the customer can be reached, in
/// `tx` (the transaction that wrote hold `hold_id`).
pub async fn queue_on_earning(
    tx: &mut DynTx,
    p: &Promotion,
    hold_id: i64,
    hold: &NewHold<'_>,
    tz: Tz,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let messages = &p.holding.messages;
    let Some(text) = &messages.on_earning else {
        return Ok(());
    };
    // A backfilled event can earn a hold that has already ended: nothing to tell.
    if hold.valid_till.is_some_and(|t| t <= now) {
        return Ok(());
    }
    let Some(customer) = crate::store::contacts::reach_of(tx, hold.customer_id).await? else {
        return Ok(());
    };
    let Some((channel, recipient)) = route(messages.channel, &customer.reach) else {
        return Ok(());
    };
    let brand = org_brand_name(tx, hold.org_id).await?;
    let until = until_words(hold.valid_till, tz);
    let body = fill(
        text,
        customer.first_name.as_deref(),
        &p.name,
        &until,
        &brand,
    );
    let message = NewMessage {
        org_id: hold.org_id,
        kind: "earned",
        channel: channel.to_string(),
        recipient,
        subject: format!("{brand}: {} is yours until {until}", p.name),
        body_text: body,
        body_html: None,
        status: "queued",
        note: None,
        offer_id: None,
        dedupe_key: Some(format!("he:{hold_id}")),
    };
    insert_message(tx, &message, now).await?;
    Ok(())
}

/// Holds read per query when queuing reminders.
const REMIND_BATCH: i64 = 1000;

/// Queues the reminders due at `now` — for each live earned or reward promotion with a
/// reminder, the holds whose last day is `days_before` days after the reminder day (today's or,
/// when missed, yesterday's 10:00 org time, as coupon reminders) — and returns how many.
pub async fn hold_reminders(store: &Store, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let mut queued = 0;
    for (org_id, tz, brand) in store.orgs_with_live_promotions().await? {
        let tz = tz.0;
        let Some(day) = coupon_reminder_day(tz, now) else {
            continue;
        };
        for p in store.live_promotions(org_id).await? {
            let Some(reminder) = &p.holding.messages.reminder else {
                continue;
            };
            if !matches!(p.kind, Kind::Earned | Kind::Reward) {
                continue;
            }
            let last = day + Duration::days(i64::from(reminder.days_before));
            let ends = (
                local_midnight(last, tz),
                local_midnight(last + Duration::days(1), tz),
            );
            let mut after = 0;
            loop {
                let due = store
                    .holds_to_remind(p.id, ends, now, after, REMIND_BATCH)
                    .await?;
                let Some(&(last_id, _, _)) = due.last() else {
                    break;
                };
                after = last_id;
                let messages: Vec<NewMessage> = due
                    .iter()
                    .filter_map(|(hold_id, valid_till, customer)| {
                        let (channel, recipient) =
                            route(p.holding.messages.channel, &customer.reach)?;
                        let until = until_words(Some(*valid_till), tz);
                        Some(NewMessage {
                            org_id,
                            kind: "hold_reminder",
                            channel: channel.to_string(),
                            recipient,
                            subject: format!("{brand}: {} ends on {until}", p.name),
                            body_text: fill(
                                &reminder.text,
                                customer.first_name.as_deref(),
                                &p.name,
                                &until,
                                &brand,
                            ),
                            body_html: None,
                            status: "queued",
                            note: None,
                            offer_id: None,
                            // Once per hold: a reminder moved to another day after it went is not sent again.
                            dedupe_key: Some(format!("hr:{hold_id}")),
                        })
                    })
                    .collect();
                queued += store.enqueue(&messages, now).await?;
            }
        }
    }
    Ok(queued)
}
