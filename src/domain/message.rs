//! Messages to customers and their pure rules: whether a coupon may be resent (ISS-4) and
//! what the resend says, with the offer's text and its placeholders filled in; and the message
//! that delivers a coupon when it is issued (issue #18), the same text sent where
//! `domain::contacts::Reach` says.

use super::offer::Discount;
use super::redeem::CouponStatus;
use chrono::NaiveDate;

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

/// What deciding a resend needs to know of a coupon, its customer and its offer.
#[derive(Debug, Clone)]
pub struct ResendTarget {
    pub code: String,
    pub status: CouponStatus,
    pub valid_till: Option<NaiveDate>,
    /// The customer's identifier type (`MOBILE`, `EMAIL`, `EXTERNAL_ID`) and value.
    pub identifier: Option<(String, String)>,
    pub first_name: Option<String>,
    pub offer_name: String,
    pub resend_text: Option<String>,
    pub discount: Discount,
    /// The org's currency code and its minor-unit digits.
    pub currency: (String, u32),
}

/// Decides a resend on `today` (org calendar): the message, or why none is sent. Only an
/// issued coupon that has not expired, of an offer with a resend text, to a customer reachable
/// by SMS (mobile) or email.
pub fn decide_resend(t: &ResendTarget, today: NaiveDate) -> Result<ResendMessage, ResendRefusal> {
    if t.resend_text
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .is_empty()
    {
        return Err(ResendRefusal::NotAllowed);
    }
    match t.status {
        CouponStatus::Issued => {}
        CouponStatus::Redeemed | CouponStatus::Revoked => {
            return Err(ResendRefusal::NotActive {
                code: t.code.clone(),
                status: t.status.as_str(),
            });
        }
        CouponStatus::Unissued => return Err(ResendRefusal::NotIssued(t.code.clone())),
    }
    if let Some(till) = t.valid_till.filter(|d| *d < today) {
        return Err(ResendRefusal::Expired {
            code: t.code.clone(),
            till: super::offer::describe::date_text(till),
        });
    }
    let Some((kind, identifier)) = &t.identifier else {
        return Err(ResendRefusal::NotIssued(t.code.clone()));
    };
    let channel = match kind.as_str() {
        "MOBILE" => "sms",
        "EMAIL" => "email",
        _ => return Err(ResendRefusal::Unreachable(identifier.clone())),
    };
    let discount = t.discount.words(&t.currency.0, t.currency.1);
    Ok(resend_message(
        channel,
        identifier,
        &t.offer_name,
        t.resend_text.as_deref(),
        t.first_name.as_deref().unwrap_or(""),
        &t.code,
        t.valid_till,
        &discount,
    ))
}

/// The message a resend sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResendMessage {
    pub channel: &'static str,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
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

/// What a message delivering an issued coupon says of it and its offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCoupon<'a> {
    pub offer_name: &'a str,
    /// The offer's resend text (OFF-3), if it has one.
    pub resend_text: Option<&'a str>,
    /// The discount in words (`10% off`).
    pub discount: &'a str,
    pub code: &'a str,
    pub valid_till: Option<NaiveDate>,
}

impl IssuedCoupon<'_> {
    /// Whether the text greets the customer by their first name (`{first_name}` in the
    /// offer's resend text): otherwise the first name changes nothing.
    pub fn greets_by_name(&self) -> bool {
        self.resend_text
            .is_some_and(|t| !t.trim().is_empty() && t.contains("{first_name}"))
    }
}

/// The message that delivers a coupon when it is issued by an offer delivered by this system:
/// to the channel and address `reach` chooses (`Reach::destination`), saying what a resend
/// says (the offer's resend text with its placeholders filled, or the default sentence;
/// subject "Your coupon for OFFER"). `None` when nothing reaches the customer.
pub fn issued_message(
    reach: &super::contacts::Reach,
    first_name: &str,
    coupon: &IssuedCoupon<'_>,
) -> Option<ResendMessage> {
    let (channel, recipient) = reach.destination()?;
    Some(resend_message(
        channel.as_str(),
        recipient,
        coupon.offer_name,
        coupon.resend_text,
        first_name,
        coupon.code,
        coupon.valid_till,
        coupon.discount,
    ))
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

    fn target() -> ResendTarget {
        ResendTarget {
            code: "K7PX".into(),
            status: CouponStatus::Issued,
            valid_till: Some(day(2026, 12, 31)),
            identifier: Some(("MOBILE".into(), "+919800000001".into())),
            first_name: None,
            offer_name: "Diwali".into(),
            resend_text: Some("Hi {first_name}, use {code}: {discount}".into()),
            discount: Discount::Percent {
                basis_points: 1500,
                cap: Some(50000),
            },
            currency: ("INR".into(), 2),
        }
    }

    #[test]
    fn an_issued_coupon_is_resent_by_sms_or_email_with_the_discount_in_words() {
        let today = day(2026, 12, 31);
        let m = decide_resend(&target(), today).unwrap();
        assert_eq!((m.channel, m.recipient.as_str()), ("sms", "+919800000001"));
        assert_eq!(m.body_text, "Hi, use K7PX: 15% off, at most ₹500");
        let email = ResendTarget {
            identifier: Some(("EMAIL".into(), "a@x.io".into())),
            ..target()
        };
        assert_eq!(decide_resend(&email, today).unwrap().channel, "email");
    }

    #[test]
    fn a_resend_is_refused_with_the_reason() {
        let today = day(2027, 1, 1);
        let cases: Vec<(ResendTarget, &str)> = vec![
            (
                ResendTarget {
                    resend_text: Some(" ".into()),
                    ..target()
                },
                "does not allow resending",
            ),
            (
                ResendTarget {
                    valid_till: None,
                    status: CouponStatus::Redeemed,
                    ..target()
                },
                "is redeemed",
            ),
            (
                ResendTarget {
                    valid_till: None,
                    status: CouponStatus::Revoked,
                    ..target()
                },
                "is revoked",
            ),
            (
                ResendTarget {
                    valid_till: None,
                    status: CouponStatus::Unissued,
                    ..target()
                },
                "has not been issued",
            ),
            (target(), "expired on 31 Dec 2026"),
            (
                ResendTarget {
                    valid_till: None,
                    identifier: Some(("EXTERNAL_ID".into(), "c-9".into())),
                    ..target()
                },
                "only by the external id c-9",
            ),
        ];
        for (t, words) in cases {
            let e = decide_resend(&t, today).unwrap_err().to_string();
            assert!(e.contains(words), "{e} / {words}");
        }
    }

    #[test]
    fn an_issued_coupon_goes_where_the_customer_is_reached_with_the_resend_text() {
        use crate::domain::contacts::Reach;
        use crate::domain::issue::CustomerRef;
        use crate::domain::masters::IdentifierType;
        use crate::domain::offer::Channel;
        let coupon = IssuedCoupon {
            offer_name: "Diwali",
            resend_text: Some("Hi {first_name}, {code} till {expiry}: {discount}"),
            discount: "10% off",
            code: "K7PX",
            valid_till: Some(day(2099, 12, 31)),
        };
        let reach = Reach {
            identifier: CustomerRef::parse(IdentifierType::ExternalId, "C-9").unwrap(),
            mobile: Some("+919800000001".into()),
            email: Some("c@x.io".into()),
            preferred: Some(Channel::Email),
        };
        let m = issued_message(&reach, "Asha", &coupon).unwrap();
        assert_eq!((m.channel, m.recipient.as_str()), ("email", "c@x.io"));
        assert_eq!(m.subject, "Your coupon for Diwali");
        assert_eq!(m.body_text, "Hi Asha, K7PX till 31 Dec 2099: 10% off");

        let sms = Reach {
            preferred: None,
            ..reach.clone()
        };
        let plain = IssuedCoupon {
            resend_text: None,
            ..coupon.clone()
        };
        let m = issued_message(&sms, "", &plain).unwrap();
        assert_eq!((m.channel, m.recipient.as_str()), ("sms", "+919800000001"));
        assert_eq!(
            m.body_text,
            "Your coupon K7PX for Diwali is valid till 31 Dec 2099: 10% off."
        );

        let nobody = Reach {
            mobile: None,
            email: None,
            ..reach
        };
        assert_eq!(issued_message(&nobody, "Asha", &coupon), None);

        // Only a text with `{first_name}` needs the name.
        assert!(coupon.greets_by_name());
        assert!(!plain.greets_by_name());
        let no_name = IssuedCoupon {
            resend_text: Some("{code}: {discount}"),
            ..coupon
        };
        assert!(!no_name.greets_by_name());
        assert_eq!(
            issued_message(&sms, "Asha", &no_name),
            issued_message(&sms, "", &no_name)
        );
    }
}
