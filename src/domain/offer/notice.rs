//! A coupon's expiry notice (seed 001 "expiry notifications"): an optional part of the offer's
//! reminder settings, sent to each customer whose coupon expired unused, at 10:00 org time on
//! the first day the coupon is no longer valid — the day after its last valid day — with the
//! coupon reminders' late and skip rules. Its section parser reads through `OfferInput` like
//! the others; when it is due is `noticed_last_day`.

use super::Channel;
use super::fields::check_text;
use super::input::{OfferErrors, OfferField as F, OfferInput};
use crate::domain::FieldError;
use crate::domain::reminder::coupon_reminder_day;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

/// The longest notice text (as a customer reminder's).
pub const NOTICE_MAX_CHARS: usize = 500;

/// The message to a customer whose coupon expired unused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryNotice {
    pub channel: Channel,
    /// With the reminders' placeholders ({first_name}, {code}, {expiry}, {discount}).
    pub text: String,
}

/// Step 4: the expiry notice — off, or a channel (SMS or email) and a text whose placeholders
/// are known. While switched off, a channel or text left in the form is ignored (as the POC
/// reminder's fields are).
pub fn expiry_notice(f: &dyn OfferInput, e: &mut OfferErrors) -> Option<Option<ExpiryNotice>> {
    if !f.flag(F::ExpiryNotice) {
        return Some(None);
    }
    let raw = f.text(F::ExpiryNoticeChannel).trim();
    let channel = match Channel::parse(&raw.to_ascii_lowercase()) {
        Some(c) => Some(c),
        None if raw.is_empty() => e.take(Err(FieldError::new(
            F::ExpiryNoticeChannel,
            "choose SMS or email",
        ))),
        None => e.take(Err(FieldError::new(
            F::ExpiryNoticeChannel,
            format!("choose SMS or email, not `{raw}`"),
        ))),
    };
    let text = e.take(check_text(
        F::ExpiryNoticeText,
        f.text(F::ExpiryNoticeText),
        NOTICE_MAX_CHARS,
    ));
    Some(Some(ExpiryNotice {
        channel: channel?,
        text: text?,
    }))
}

/// The last valid day of the coupons whose notices are due at `now`: the day before the
/// notice day, which is today once 10:00 org time has come, else yesterday — a notice missed
/// at 10:00 still goes within the day after, and one later than that is not sent, as a
/// coupon reminder.
pub fn noticed_last_day(tz: Tz, now: DateTime<Utc>) -> Option<NaiveDate> {
    coupon_reminder_day(tz, now).map(|day| day - Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::offer::form::OfferForm;
    use chrono_tz::{America, Asia};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn form(on: &str, channel: &str, text: &str) -> OfferForm {
        OfferForm {
            expiry_notice: on.into(),
            expiry_notice_channel: channel.into(),
            expiry_notice_text: text.into(),
            ..OfferForm::defaults()
        }
    }

    /// (field, message) of each error.
    fn errors(e: &OfferErrors) -> Vec<(&'static str, String)> {
        e.0.iter()
            .map(|x| (x.field.form(), x.message.clone()))
            .collect()
    }

    #[test]
    fn a_notice_is_off_or_a_channel_and_a_checked_text() {
        let mut e = OfferErrors::default();
        assert_eq!(expiry_notice(&form("", "sms", ""), &mut e), Some(None));
        // Switched off: what is left in its fields is ignored.
        assert_eq!(
            expiry_notice(&form("", "fax", "{nope}"), &mut e),
            Some(None)
        );
        assert_eq!(
            expiry_notice(
                &form("on", "EMAIL", "  Hi {first_name}, {code} ended {expiry}  "),
                &mut e
            ),
            Some(Some(ExpiryNotice {
                channel: Channel::Email,
                text: "Hi {first_name}, {code} ended {expiry}".into(),
            }))
        );
        assert!(e.is_empty(), "{e}");
    }

    #[test]
    fn a_bad_notice_names_its_field_and_says_why() {
        let cases = [
            (
                form("on", "fax", "Your {code} expired"),
                "expiry_notice_channel",
                "choose SMS or email, not `fax`",
            ),
            (
                form("on", "", "x"),
                "expiry_notice_channel",
                "choose SMS or email",
            ),
            (form("on", "sms", "  "), "expiry_notice_text", "is required"),
            (
                form("on", "sms", "Your {coupon} expired"),
                "expiry_notice_text",
                "unknown placeholder {coupon}",
            ),
            (
                form("on", "sms", "Your {code expired"),
                "expiry_notice_text",
                "without a closing",
            ),
            (
                form("on", "sms", &"x".repeat(NOTICE_MAX_CHARS + 1)),
                "expiry_notice_text",
                "at most 500 characters",
            ),
        ];
        for (f, field, words) in cases {
            let mut e = OfferErrors::default();
            assert_eq!(expiry_notice(&f, &mut e), None, "{field}: {words}");
            let got = errors(&e);
            assert_eq!(got.len(), 1, "{got:?}");
            assert_eq!(got[0].0, field);
            assert!(got[0].1.contains(words), "{got:?}");
        }
        // Both fields wrong: both reported.
        let mut e = OfferErrors::default();
        expiry_notice(&form("on", "pigeon", ""), &mut e);
        let fields: Vec<_> = errors(&e).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["expiry_notice_channel", "expiry_notice_text"]);
    }

    #[test]
    fn the_notice_comes_at_ten_the_day_after_the_last_day_or_later_that_day() {
        // Coupons valid until 9 Mar: noticed on 10 Mar from 10:00 IST (04:30 UTC).
        let tz = Asia::Kolkata;
        assert_eq!(
            noticed_last_day(tz, at("2027-03-10T04:29:00Z")),
            Some(d(2027, 3, 8))
        );
        assert_eq!(
            noticed_last_day(tz, at("2027-03-10T04:30:00Z")),
            Some(d(2027, 3, 9))
        );
        assert_eq!(
            noticed_last_day(tz, at("2027-03-10T18:00:00Z")),
            Some(d(2027, 3, 9))
        );
        // Until 10:00 the next day a missed notice still goes (late).
        assert_eq!(
            noticed_last_day(tz, at("2027-03-11T04:00:00Z")),
            Some(d(2027, 3, 9))
        );
        // New York: 10:00 EST is 15:00 UTC.
        let ny = America::New_York;
        assert_eq!(
            noticed_last_day(ny, at("2027-03-10T15:00:00Z")),
            Some(d(2027, 3, 9))
        );
        assert_eq!(
            noticed_last_day(ny, at("2027-03-10T14:59:00Z")),
            Some(d(2027, 3, 8))
        );
    }
}
