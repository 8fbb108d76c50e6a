//! Customers sign in with a one-time code (WAL-1): `send_code` checks the throttles
//! (`domain::otp::may_send`), draws a 6-digit code, stores its hash and queues the SMS or
//! email in one transaction; `confirm_code` checks a typed code against the latest one
//! (`domain::otp::verify`), records the try under a guard and answers the customer (made when
//! new). Asking for a code answers the same whether or not the number is a customer's.

use crate::domain::ids::{CustomerId, OrgId};
use crate::domain::issue::CustomerRef;
use crate::domain::masters::IdentifierType;
use crate::domain::otp::{
    self, CODE_DIGITS, CODE_MINUTES, SendRefusal, VerifyRefusal, code_message,
};
use crate::store::otp::NewCode;
use crate::store::outbox::NewMessage;
use crate::store::{Store, StoreResult};
use chrono::{DateTime, Duration, Utc};
use rand::RngExt;

/// Sends a new sign-in code to `to` (a mobile by SMS, an email by email) unless a throttle
/// refuses (checked in the transaction that stores the code, so requests at once cannot pass
/// it together); `address` is the client's address for the per-device limit.
#[tracing::instrument(name = "app.send_code", skip_all, fields(org = org_id.get()))]
pub async fn send_code(
    store: &Store,
    org_id: OrgId,
    brand: &str,
    to: &CustomerRef,
    address: &str,
    now: DateTime<Utc>,
) -> StoreResult<Result<(), SendRefusal>> {
    let code = draw_code();
    let code_hash = crate::passwords::hash(code.clone())
        .await
        .map_err(|e| crate::store::StoreError::Conflict(e.to_string()))?;
    let (subject, body_text) = code_message(brand, &code);
    let channel = match to.kind {
        IdentifierType::Email => "email",
        _ => "sms",
    };
    store
        .store_code(
            NewCode {
                org_id,
                to,
                code_hash,
                address,
                expires_at: now + Duration::minutes(CODE_MINUTES),
                message: NewMessage {
                    org_id,
                    kind: "otp",
                    channel: channel.into(),
                    recipient: to.value.clone(),
                    subject,
                    body_text,
                    body_html: None,
                    status: "queued",
                    note: None,
                    offer_id: None,
                    dedupe_key: None,
                },
            },
            now - Duration::hours(1),
            now,
            |sent, asked| otp::may_send(sent, asked, now),
        )
        .await
}

/// Checks a typed code for `who`: the customer it signs in (made when new), or why not.
#[tracing::instrument(name = "app.confirm_code", skip_all, fields(org = org_id.get()))]
pub async fn confirm_code(
    store: &Store,
    org_id: OrgId,
    who: &CustomerRef,
    typed: &str,
    now: DateTime<Utc>,
) -> StoreResult<Result<CustomerId, VerifyRefusal>> {
    let latest = store.latest_code(org_id, who).await?;
    let sent = latest.as_ref().map(|(c, _)| c);
    // A code that could not sign in whatever was typed (none, used, spent, expired) is
    // refused before any hashing.
    if let Err(refusal) = otp::verify(sent, true, now) {
        return Ok(Err(refusal));
    }
    let Some(digits) = otp::typed_code(typed) else {
        // Not even a code's shape: not counted as a try, but said plainly.
        let left = sent.map_or(otp::MAX_ATTEMPTS, |c| otp::MAX_ATTEMPTS - c.attempts);
        return Ok(Err(VerifyRefusal::Wrong(left.max(1))));
    };
    let matches = match &latest {
        Some((_, hash)) => crate::passwords::verify(digits, Some(hash.clone())).await,
        None => false,
    };
    let decided = otp::verify(sent, matches, now);
    if let Some(code) = sent.filter(|c| !c.used && c.attempts < otp::MAX_ATTEMPTS) {
        let recorded = store.record_code_try(code.id, decided.is_ok(), now).await?;
        if decided.is_ok() && !recorded {
            // Another try used the code (or spent its tries) a moment before this one.
            return Ok(Err(VerifyRefusal::Used));
        }
    }
    if let Err(refusal) = decided {
        return Ok(Err(refusal));
    }
    Ok(Ok(store.ensure_customer(org_id, who, now).await?))
}

/// A uniformly drawn 6-digit code.
fn draw_code() -> String {
    let n: u32 = rand::rng().random_range(0..10u32.pow(CODE_DIGITS as u32));
    format!("{n:0width$}", width = CODE_DIGITS)
}
