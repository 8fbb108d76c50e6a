//! Resending an issued coupon to its customer (ISS-4): load the coupon, its customer and offer
//! → `domain::message::decide_resend` → queue the message in the outbox with its audit entry,
//! in one transaction. The scheduler delivers it.

use crate::domain::ids::{OfferId, OrgId};
use crate::domain::message::{ResendRefusal, Resent};
use crate::domain::user::Actor;
use crate::store::resend::{queue_resend, resend_target};
use crate::store::{Store, StoreResult};
use chrono::{DateTime, Utc};

/// Queues the coupon `coupon_id` of an offer of the org to its customer again. `Ok(Err(_))`
/// says why nothing was queued; a coupon that is not the offer's (or the org's) is `NotFound`.
#[tracing::instrument(name = "app.resend", skip_all, fields(org = org_id.get(), offer = offer_id.get(), coupon = coupon_id))]
pub async fn resend(
    store: &Store,
    org_id: OrgId,
    offer_id: OfferId,
    coupon_id: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> StoreResult<Result<Resent, ResendRefusal>> {
    let mut tx = store.begin().await?;
    let (target, tz) = resend_target(&mut tx, org_id, offer_id, coupon_id).await?;
    let today = now.with_timezone(&*tz).date_naive();
    let message = match crate::domain::message::decide_resend(&target, today) {
        Ok(m) => m,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let message_id = queue_resend(
        &mut tx,
        org_id,
        offer_id,
        &target.code,
        &message,
        actor,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Resent {
        message_id,
        code: target.code,
        channel: message.channel,
        recipient: message.recipient,
    }))
}
