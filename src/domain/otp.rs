//! One-time sign-in codes for customers (WAL-1): who may be sent a code now, and whether a
//! typed code signs in. Pure rules; the codes are drawn and hashed in `app::sign_in`, kept in
//! `store::otp`.
//!
//! - a code is 6 digits, valid for [`CODE_MINUTES`] minutes, and allows [`MAX_ATTEMPTS`]
//!   tries; a newer code replaces the older ones;
//! - a new code for the same number or address is sent at most every [`RESEND_SECONDS`]
//!   seconds, and at most [`PER_RECIPIENT_PER_HOUR`] an hour; one client address may ask for
//!   at most [`PER_ADDRESS_PER_HOUR`] codes an hour (for any numbers);
//! - asking for a code answers the same whether or not the number belongs to a customer: the
//!   customer is made when the code is confirmed.

use chrono::{DateTime, Duration, Utc};

pub const CODE_DIGITS: usize = 6;
pub const CODE_MINUTES: i64 = 10;
pub const MAX_ATTEMPTS: i64 = 5;
pub const RESEND_SECONDS: i64 = 30;
pub const PER_RECIPIENT_PER_HOUR: usize = 5;
pub const PER_ADDRESS_PER_HOUR: usize = 20;

/// Why no code is sent now; `to_string()` is what the customer reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendRefusal {
    #[error("a code was sent a moment ago; you can ask for a new one in {0} seconds")]
    TooSoon(i64),
    #[error(
        "too many codes were sent to this number or address in the last hour; try again after {0}"
    )]
    RecipientLimit(String),
    #[error("too many codes were asked for from this device in the last hour; try again later")]
    AddressLimit,
}

/// Decides whether a code may be sent to a recipient at `now`, given when codes were sent to
/// it in the last hour and how many this client address asked for in the last hour.
pub fn may_send(
    sent_to_recipient: &[DateTime<Utc>],
    asked_from_address: usize,
    now: DateTime<Utc>,
) -> Result<(), SendRefusal> {
    let hour_ago = now - Duration::hours(1);
    let recent: Vec<&DateTime<Utc>> = sent_to_recipient
        .iter()
        .filter(|t| **t > hour_ago)
        .collect();
    if let Some(last) = recent.iter().max() {
        let wait = RESEND_SECONDS - (now - **last).num_seconds();
        if wait > 0 {
            return Err(SendRefusal::TooSoon(wait));
        }
    }
    if recent.len() >= PER_RECIPIENT_PER_HOUR {
        let oldest = recent.iter().min().map(|t| **t).unwrap_or(now);
        let free_at = oldest + Duration::hours(1);
        return Err(SendRefusal::RecipientLimit(
            free_at.format("%H:%M UTC").to_string(),
        ));
    }
    if asked_from_address >= PER_ADDRESS_PER_HOUR {
        return Err(SendRefusal::AddressLimit);
    }
    Ok(())
}

/// The latest code sent to a recipient, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCode {
    pub id: i64,
    pub attempts: i64,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}

/// Why a typed code does not sign in; `to_string()` is what the customer reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyRefusal {
    #[error("no code was sent to this number or address; ask for a code first")]
    NoCode,
    #[error("this code has expired (codes are valid for 10 minutes); ask for a new one")]
    Expired,
    #[error("too many wrong codes; ask for a new one")]
    TooManyAttempts,
    #[error("that is not the code we sent; {0} tries left")]
    Wrong(i64),
    #[error("this code was used already; ask for a new one")]
    Used,
}

/// What a typed code comes to: signed in, or why not. `matches` says whether the typed code
/// is the latest code's (checked against its hash by the caller). A wrong try counts.
pub fn verify(
    latest: Option<&SentCode>,
    matches: bool,
    now: DateTime<Utc>,
) -> Result<(), VerifyRefusal> {
    let Some(code) = latest else {
        return Err(VerifyRefusal::NoCode);
    };
    if code.used {
        return Err(VerifyRefusal::Used);
    }
    if code.attempts >= MAX_ATTEMPTS {
        return Err(VerifyRefusal::TooManyAttempts);
    }
    if now >= code.expires_at {
        return Err(VerifyRefusal::Expired);
    }
    if !matches {
        let left = MAX_ATTEMPTS - code.attempts - 1;
        return Err(if left == 0 {
            VerifyRefusal::TooManyAttempts
        } else {
            VerifyRefusal::Wrong(left)
        });
    }
    Ok(())
}

/// Whether a typed code has the shape of a code (6 digits, spaces ignored); the digits.
pub fn typed_code(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == CODE_DIGITS && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

/// The message carrying a code: subject (email) and text.
pub fn code_message(brand: &str, code: &str) -> (String, String) {
    (
        format!("Your {brand} sign-in code"),
        format!(
            "{code} is your {brand} code to see your coupons. It is valid for {CODE_MINUTES} minutes. Do not share it with anyone."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_new_code_waits_30_seconds_and_5_an_hour() {
        let now = at("2026-11-30T10:00:00Z");
        assert_eq!(may_send(&[], 0, now), Ok(()));
        assert_eq!(
            may_send(&[at("2026-11-30T09:59:50Z")], 0, now),
            Err(SendRefusal::TooSoon(20))
        );
        assert_eq!(may_send(&[at("2026-11-30T09:59:30Z")], 0, now), Ok(()));
        let five = [
            at("2026-11-30T09:10:00Z"),
            at("2026-11-30T09:20:00Z"),
            at("2026-11-30T09:30:00Z"),
            at("2026-11-30T09:40:00Z"),
            at("2026-11-30T09:50:00Z"),
        ];
        assert_eq!(
            may_send(&five, 0, now),
            Err(SendRefusal::RecipientLimit("10:10 UTC".into()))
        );
        // Codes older than an hour do not count.
        assert_eq!(may_send(&five[1..], 0, at("2026-11-30T10:10:01Z")), Ok(()));
        assert_eq!(may_send(&[], 19, now), Ok(()));
        assert_eq!(may_send(&[], 20, now), Err(SendRefusal::AddressLimit));
    }

    #[test]
    fn a_code_signs_in_once_within_10_minutes_and_5_tries() {
        let now = at("2026-11-30T10:00:00Z");
        let code = |attempts, used, expires| SentCode {
            id: 1,
            attempts,
            expires_at: at(expires),
            used,
        };
        let fresh = code(0, false, "2026-11-30T10:05:00Z");
        assert_eq!(verify(None, true, now), Err(VerifyRefusal::NoCode));
        assert_eq!(verify(Some(&fresh), true, now), Ok(()));
        assert_eq!(
            verify(Some(&fresh), false, now),
            Err(VerifyRefusal::Wrong(4))
        );
        let fourth = code(3, false, "2026-11-30T10:05:00Z");
        assert_eq!(
            verify(Some(&fourth), false, now),
            Err(VerifyRefusal::Wrong(1))
        );
        let last = code(4, false, "2026-11-30T10:05:00Z");
        assert_eq!(
            verify(Some(&last), false, now),
            Err(VerifyRefusal::TooManyAttempts)
        );
        let spent = code(5, false, "2026-11-30T10:05:00Z");
        // Even the right code is refused after five wrong tries.
        assert_eq!(
            verify(Some(&spent), true, now),
            Err(VerifyRefusal::TooManyAttempts)
        );
        let old = code(0, false, "2026-11-30T10:00:00Z");
        assert_eq!(verify(Some(&old), true, now), Err(VerifyRefusal::Expired));
        let used = code(1, true, "2026-11-30T10:05:00Z");
        assert_eq!(verify(Some(&used), true, now), Err(VerifyRefusal::Used));
    }

    #[test]
    fn typed_codes_are_six_digits() {
        assert_eq!(typed_code(" 123 456 "), Some("123456".into()));
        assert_eq!(typed_code("12345"), None);
        assert_eq!(typed_code("12345a"), None);
    }
}
