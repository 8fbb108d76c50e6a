//! Resending an issued coupon to its customer (ISS-4): the coupon, its customer and its offer
//! are read, the message is put in the outbox (kind `resend`, no dedupe key: every resend is a
//! new message) and the resend is audited, all in one transaction. The scheduler delivers it.

use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::domain::money::{format_amount, format_percent};
use crate::domain::org::Currency;
use crate::domain::user::Actor;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// Why a coupon is not resent; `to_string()` is what a person reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResendRefusal {
    #[error("the coupon {0} has not been issued to a customer")]
    NotIssued(String),
    #[error("the coupon {code} is {status}; only active coupons are resent")]
    NotActive { code: String, status: &'static str },
    #[error("the coupon {code} expired on {till}")]
    Expired { code: String, till: String },
    #[error(
        "the customer is known only by the external id {0}; no SMS or email can reach them — give them the code another way"
    )]
    Unreachable(String),
    /// The offer has no resend text: resending is off (seed 001: the executive can resend a
    /// coupon only when the offer enables it).
    #[error(
        "this offer does not allow resending coupons; turn it on by giving the offer a resend text (Edit offer → advanced settings)"
    )]
    NotAllowed,
}

/// A resend that was queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resent {
    /// The outbox message.
    pub message_id: i64,
    pub code: String,
    /// `sms` or `email`.
    pub channel: &'static str,
    pub recipient: String,
}

/// What a resend reads about a coupon of an offer.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Target {
    code: String,
    status: String,
    valid_till: Option<NaiveDate>,
    identifier_type: Option<String>,
    identifier: Option<String>,
    first_name: Option<String>,
    offer_name: String,
    resend_text: Option<String>,
    discount_type: String,
    discount_value: i64,
    discount_cap: Option<i64>,
    currency: String,
    time_zone: String,
}

/// The message a resend sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResendMessage {
    pub channel: &'static str,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
}

/// The offer's discount in words, as the coupon-expiry reminders say it: "15% off, at most
/// ₹500" / "₹200 off".
pub fn discount_words(kind: &str, value: i64, cap: Option<i64>, currency: &str) -> String {
    let digits = Currency::parse("currency", currency)
        .map(|c| c.minor_digits())
        .unwrap_or(2);
    match (kind, cap) {
        ("ABS", _) => format!("{} off", format_amount(value, currency, digits)),
        (_, Some(cap)) => format!(
            "{} off, at most {}",
            format_percent(value),
            format_amount(cap, currency, digits)
        ),
        _ => format!("{} off", format_percent(value)),
    }
}

/// Fills `{first_name}` `{code}` `{expiry}` `{discount}` in one pass (a value that itself
/// contains a placeholder is left as it is); other braces are kept.
pub fn fill_placeholders(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        match values.iter().find(|(name, _)| {
            tail.strip_prefix('{')
                .and_then(|t| t.strip_prefix(name))
                .is_some_and(|t| t.starts_with('}'))
        }) {
            Some((name, value)) => {
                out.push_str(value);
                rest = &tail[name.len() + 2..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The resend of `code` to a customer: the offer's resend text (OFF-3) with its placeholders
/// filled, or a default sentence; email gets the subject "Your coupon for OFFER".
#[allow(clippy::too_many_arguments)]
pub fn resend_message(
    channel: &'static str,
    recipient: &str,
    offer_name: &str,
    resend_text: Option<&str>,
    first_name: &str,
    code: &str,
    valid_till: Option<NaiveDate>,
    discount: &str,
) -> ResendMessage {
    let expiry = valid_till
        .map(crate::domain::offer::describe::date_text)
        .unwrap_or_else(|| "no expiry".into());
    let body_text = match resend_text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => fill_placeholders(
            &if first_name.trim().is_empty() {
                crate::domain::offer::without_first_name(text)
            } else {
                text.to_string()
            },
            &[
                ("first_name", first_name),
                ("code", code),
                ("expiry", &expiry),
                ("discount", discount),
            ],
        ),
        None if valid_till.is_some() => {
            format!("Your coupon {code} for {offer_name} is valid till {expiry}: {discount}.")
        }
        None => format!("Your coupon {code} for {offer_name} does not expire: {discount}."),
    };
    ResendMessage {
        channel,
        recipient: recipient.to_string(),
        subject: format!("Your coupon for {offer_name}"),
        body_text,
    }
}

impl Store {
    /// Queues the coupon `coupon_id` of an offer of the org to its customer again (ISS-4):
    /// by SMS to a mobile, by email to an email address. Only an issued coupon that has not
    /// expired is resent; a customer known only by an external id cannot be reached.
    /// `Ok(Err(_))` says why nothing was queued; a coupon that is not the offer's (or the
    /// org's) is `NotFound`.
    #[tracing::instrument(name = "store.resend", skip_all, fields(org = org_id, offer = offer_id, coupon = coupon_id))]
    pub async fn resend_coupon(
        &self,
        org_id: i64,
        offer_id: i64,
        coupon_id: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Resent, ResendRefusal>> {
        let mut tx = self.begin().await?;
        let target: Option<Target> = tx
            .fetch_optional(
                "SELECT c.code, c.status, c.valid_till, cu.identifier_type, cu.identifier, cu.first_name, \
                 o.name AS offer_name, o.resend_text, o.discount_type, o.discount_value, o.discount_cap, \
                 g.currency, g.time_zone \
                 FROM coupons c JOIN offers o ON o.id = c.offer_id AND o.org_id = c.org_id JOIN orgs g ON g.id = c.org_id \
                 LEFT JOIN customers cu ON cu.id = c.customer_id \
                 WHERE c.org_id = $1 AND c.offer_id = $2 AND c.id = $3",
                &[org_id.into(), offer_id.into(), coupon_id.into()],
            )
            .await?;
        let Some(t) = target else {
            return Err(StoreError::NotFound);
        };
        if t.resend_text
            .as_deref()
            .map(str::trim)
            .unwrap_or("")
            .is_empty()
        {
            return Ok(Err(ResendRefusal::NotAllowed));
        }
        let tz: Tz = t.time_zone.parse().unwrap_or(chrono_tz::UTC);
        let today = now.with_timezone(&tz).date_naive();
        match t.status.as_str() {
            "issued" => {}
            "redeemed" => {
                return Ok(Err(ResendRefusal::NotActive {
                    code: t.code,
                    status: "redeemed",
                }));
            }
            "revoked" => {
                return Ok(Err(ResendRefusal::NotActive {
                    code: t.code,
                    status: "revoked",
                }));
            }
            _ => return Ok(Err(ResendRefusal::NotIssued(t.code))),
        }
        if let Some(till) = t.valid_till.filter(|d| *d < today) {
            return Ok(Err(ResendRefusal::Expired {
                code: t.code,
                till: till.format("%-d %b %Y").to_string(),
            }));
        }
        let (Some(kind), Some(identifier)) = (t.identifier_type.as_deref(), t.identifier.clone())
        else {
            return Ok(Err(ResendRefusal::NotIssued(t.code)));
        };
        let channel = match kind {
            "MOBILE" => "sms",
            "EMAIL" => "email",
            _ => return Ok(Err(ResendRefusal::Unreachable(identifier))),
        };
        let discount = discount_words(
            &t.discount_type,
            t.discount_value,
            t.discount_cap,
            &t.currency,
        );
        let m = resend_message(
            channel,
            &identifier,
            &t.offer_name,
            t.resend_text.as_deref(),
            t.first_name.as_deref().unwrap_or(""),
            &t.code,
            t.valid_till,
            &discount,
        );
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
        super::audit::record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "coupon.resent",
                entity_type: "offer",
                entity_id: Some(offer_id),
                summary: format!("Resent coupon {} to {kind} {identifier}", t.code),
                details: Some(
                    serde_json::json!({
                        "code": t.code,
                        "channel": channel,
                        "recipient": identifier,
                        "outbox_message": message_id,
                    })
                    .to_string(),
                ),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(Resent {
            message_id,
            code: t.code,
            channel,
            recipient: identifier,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_offers_text_is_filled_in() {
        let m = resend_message(
            "sms",
            "+919800000001",
            "Diwali",
            Some("Hi {first_name}, {code} is yours till {expiry}: {discount} {unknown}"),
            "Asha",
            "K7PX",
            Some(day(2027, 3, 13)),
            "15% off, at most ₹500",
        );
        assert_eq!(
            m.body_text,
            "Hi Asha, K7PX is yours till 13 Mar 2027: 15% off, at most ₹500 {unknown}"
        );
        assert_eq!(m.subject, "Your coupon for Diwali");
        assert_eq!(m.recipient, "+919800000001");
    }

    #[test]
    fn without_a_text_a_default_sentence_is_sent() {
        let m = resend_message(
            "email",
            "a@x.io",
            "Welcome {code}",
            None,
            "",
            "ABC",
            Some(day(2027, 1, 2)),
            "₹200 off",
        );
        assert_eq!(
            m.body_text,
            "Your coupon ABC for Welcome {code} is valid till 2 Jan 2027: ₹200 off."
        );
        let m = resend_message(
            "email",
            "a@x.io",
            "Club",
            Some("  "),
            "",
            "ABC",
            None,
            "10% off",
        );
        assert_eq!(
            m.body_text,
            "Your coupon ABC for Club does not expire: 10% off."
        );
    }

    #[test]
    fn values_are_not_filled_twice() {
        assert_eq!(
            fill_placeholders(
                "{first_name} {code} {",
                &[("first_name", "{code}"), ("code", "X")]
            ),
            "{code} X {"
        );
    }

    #[test]
    fn discounts_read_like_the_reminders() {
        assert_eq!(discount_words("ABS", 20000, None, "INR"), "₹200 off");
        assert_eq!(
            discount_words("PERC", 1500, Some(50000), "INR"),
            "15% off, at most ₹500"
        );
        assert_eq!(discount_words("PERC", 1250, None, "INR"), "12.5% off");
    }
}
