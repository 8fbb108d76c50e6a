//! Resending an issued coupon (ISS-4): what the decision reads of a coupon, and the outbox
//! message (kind `resend`, no dedupe key: every resend is a new message) written with its
//! audit entry in the caller's transaction. The flow is `app::resend`.

use super::dyntx::DynTx;
use super::{AuditEntry, StoreError, StoreResult};
use crate::domain::ids::{OfferId, OrgId};
use crate::domain::message::{ResendMessage, ResendTarget};
use crate::domain::offer::Discount;
use crate::domain::org::{Currency, OrgTz};
use crate::domain::redeem::CouponStatus;
use crate::domain::user::Actor;
use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, sqlx::FromRow)]
struct TargetRow {
    code: String,
    status: CouponStatus,
    valid_till: Option<NaiveDate>,
    identifier_type: Option<String>,
    identifier: Option<String>,
    first_name: Option<String>,
    offer_name: String,
    resend_text: Option<String>,
    #[sqlx(flatten)]
    discount: Discount,
    currency: Currency,
    time_zone: OrgTz,
}

/// The coupon `coupon_id` of the org's offer as a resend decides on it, with the org's time
/// zone; `NotFound` when it is not the offer's (or the org's).
pub async fn resend_target(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    coupon_id: i64,
) -> StoreResult<(ResendTarget, OrgTz)> {
    let t: TargetRow = tx
        .fetch_optional(
            "SELECT c.code, c.status, c.valid_till, cu.identifier_type, cu.identifier, cu.first_name, \
             o.name AS offer_name, o.resend_text, o.discount_type, o.discount_value, o.discount_cap, \
             g.currency, g.time_zone \
             FROM coupons c JOIN offers o ON o.id = c.offer_id AND o.org_id = c.org_id JOIN orgs g ON g.id = c.org_id \
             LEFT JOIN customers cu ON cu.id = c.customer_id \
             WHERE c.org_id = $1 AND c.offer_id = $2 AND c.id = $3",
            &[org_id.into(), offer_id.into(), coupon_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let target = ResendTarget {
        code: t.code,
        status: t.status,
        valid_till: t.valid_till,
        identifier: t.identifier_type.zip(t.identifier),
        first_name: t.first_name,
        offer_name: t.offer_name,
        resend_text: t.resend_text,
        discount: t.discount,
        currency: (t.currency.code().to_string(), t.currency.minor_digits()),
    };
    Ok((target, t.time_zone))
}

/// Queues the resend `m` of coupon `code` of an offer and audits it; the outbox message id.
pub async fn queue_resend(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    code: &str,
    m: &ResendMessage,
    actor: &Actor,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let (message_id,): (i64,) = tx
        .fetch_optional(
            "INSERT INTO outbox (org_id, kind, channel, recipient, subject, body_text, status, attempts, \
             next_attempt_at, offer_id, created_at) VALUES ($1, 'resend', $2, $3, $4, $5, 'queued', 0, $6, $7, $6) \
             RETURNING id",
            &[
                org_id.into(),
                m.channel.into(),
                m.recipient.as_str().into(),
                m.subject.as_str().into(),
                m.body_text.as_str().into(),
                now.into(),
                offer_id.into(),
            ],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let by = if m.channel == "sms" {
        "MOBILE"
    } else {
        "EMAIL"
    };
    super::audit::record_dyn(
        tx,
        AuditEntry {
            org_id,
            actor,
            action: "coupon.resent",
            entity_type: "offer",
            entity_id: Some(offer_id.get()),
            summary: format!("Resent coupon {code} to {by} {}", m.recipient),
            details: Some(
                serde_json::json!({
                    "code": code,
                    "channel": m.channel,
                    "recipient": m.recipient,
                    "outbox_message": message_id,
                })
                .to_string(),
            ),
        },
    )
    .await?;
    Ok(message_id)
}
