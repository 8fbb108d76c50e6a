//! Coupon codes and coupon expiry (COD-1, COD-5, ISS-3), pure and unit-tested.

use super::offer::{Charset, CouponExpiry, code_space};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use rand::RngExt;

/// A coupon code as stored and matched: trimmed, upper case (COD-5), never blank. Made by
/// `normalise_code` (a code someone typed or sent) or `parse_upload_code` (a vendor's code);
/// comparing two of them is comparing codes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct CouponCode(String);

impl CouponCode {
    /// A code read back from the database, where only normalised codes are written.
    pub fn stored(code: String) -> Self {
        debug_assert!(!code.is_empty() && code.trim() == code && code.to_ascii_uppercase() == code);
        CouponCode(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for CouponCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for CouponCode {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for CouponCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for CouponCode {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// A code as stored and matched: trimmed and upper case (COD-5). `None` for a blank code.
pub fn normalise_code(raw: &str) -> Option<CouponCode> {
    let s = raw.trim().to_ascii_uppercase();
    (!s.is_empty()).then_some(CouponCode(s))
}

/// Longest code accepted in an upload.
pub const MAX_CODE_LEN: usize = 40;

/// Checks an uploaded (vendor) code (COD-3): normalised, 1–40 letters, digits, `-` or `_`.
pub fn parse_upload_code(raw: &str) -> Result<CouponCode, String> {
    let code = normalise_code(raw).ok_or_else(|| "the code is blank".to_string())?;
    if code.as_str().chars().count() > MAX_CODE_LEN {
        return Err(format!("the code is longer than {MAX_CODE_LEN} characters"));
    }
    if let Some(bad) = code
        .as_str()
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "the code `{code}` contains `{bad}`; use only letters, digits, - and _"
        ));
    }
    Ok(code)
}

/// The shape of generated unique codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeFormat {
    pub prefix: String,
    pub length: u32,
    pub charset: Charset,
}

impl CodeFormat {
    /// Whether a code of this shape could ever be generated as `code` (normalised): the prefix,
    /// then exactly `length` characters of the charset. Promotion codes must never have the
    /// shape of an org's generated coupon codes, or a till's code could mean two things.
    pub fn could_make(&self, code: &str) -> bool {
        let code = code.trim().to_ascii_uppercase();
        let prefix = self.prefix.trim().to_ascii_uppercase();
        let Some(rest) = code.strip_prefix(&prefix) else {
            return false;
        };
        let alphabet = self.charset.alphabet();
        rest.len() == self.length as usize && rest.bytes().all(|b| alphabet.contains(&b))
    }

    /// The shape in words: "8 letters and digits after WELCOME-".
    pub fn words(&self) -> String {
        let kind = match self.charset {
            Charset::Numeric => "digits",
            Charset::Alphanumeric => "letters and digits",
            Charset::Unambiguous => "unambiguous letters and digits",
        };
        if self.prefix.is_empty() {
            format!("{} {kind}", self.length)
        } else {
            format!("{} {kind} after {}", self.length, self.prefix)
        }
    }
}

/// Why a generation request is refused before it starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    #[error(
        "{requested} codes cannot be made: this format allows {space} codes and {existing} exist; \
         at most {max_more} more can be generated (codes must stay hard to guess). Use a longer code or more characters."
    )]
    CodeSpace {
        requested: u64,
        existing: u64,
        space: u128,
        max_more: u64,
    },
}

/// Codes of a format are kept at most half-used, so that guessing one stays unlikely and
/// drawing fresh random codes stays fast.
pub fn check_code_space(
    format: &CodeFormat,
    requested: u64,
    existing: u64,
) -> Result<(), GenerateError> {
    let space = code_space(format.charset, format.length);
    let limit = space / 2;
    let max_more = limit.saturating_sub(existing as u128).min(u64::MAX as u128) as u64;
    if (requested as u128) + (existing as u128) > limit {
        return Err(GenerateError::CodeSpace {
            requested,
            existing,
            space,
            max_more,
        });
    }
    Ok(())
}

/// Randomized common codes (COD-4): codes as long as `sample`, numeric when the sample is,
/// else upper-case alphanumeric; `fixed` (about half the length) is the same in every code.
pub fn randomized_format(sample: &str, fixed: &str) -> CodeFormat {
    let numeric = sample.chars().all(|c| c.is_ascii_digit());
    CodeFormat {
        prefix: fixed.to_string(),
        length: (sample.len().saturating_sub(fixed.len())) as u32,
        charset: if numeric {
            Charset::Numeric
        } else {
            Charset::Alphanumeric
        },
    }
}

/// The org's code prefix as it starts codes of a sample's kind: the prefix itself for
/// alphanumeric samples, each letter's place in the prefix alphabet (mod 10) for numeric ones
/// (`ABC` → `012`).
pub fn org_lead(org_prefix: &str, numeric: bool) -> String {
    if !numeric {
        return org_prefix.to_string();
    }
    org_prefix
        .bytes()
        .map(|b| {
            let place = crate::domain::org::PREFIX_ALPHABET
                .iter()
                .position(|&a| a == b)
                .unwrap_or(b as usize);
            char::from(b'0' + (place % 10) as u8)
        })
        .collect()
}

/// The fixed parts a randomized offer shaped like `sample` may take in an org whose code prefix
/// is `org_prefix` (COD-4, ORG-1), best first: half the sample's length, starting with as much
/// of the org's lead (`org_lead`) as leaves at least one character to tell the org's randomized
/// offers of that length apart, then those telling characters in alphabet order
/// (`ABC` + `TEST12345` → `ABC0`, `ABC1`, …; `ABC` + `98765` → `00`, `01`, …).
pub fn fixed_part_candidates(
    org_prefix: &str,
    sample: &str,
) -> impl Iterator<Item = String> + use<> {
    let format = randomized_format(sample, "");
    let numeric = format.charset == Charset::Numeric;
    let fixed_len = sample.len() / 2;
    let lead: String = org_lead(org_prefix, numeric)
        .chars()
        .take(fixed_len.saturating_sub(1))
        .collect();
    let telling = CodeFormat {
        prefix: lead,
        length: (fixed_len - fixed_len.saturating_sub(1).min(org_prefix.len())) as u32,
        charset: format.charset,
    };
    let space = code_space(telling.charset, telling.length);
    (0..space).map(move |i| code_at(&telling, i))
}

/// Formats `index` (< code space) as a code of `format`.
pub fn code_at(format: &CodeFormat, mut index: u128) -> String {
    let alphabet = format.charset.alphabet();
    let base = alphabet.len() as u128;
    let mut body = vec![b'0'; format.length as usize];
    for slot in body.iter_mut().rev() {
        *slot = alphabet[(index % base) as usize];
        index /= base;
    }
    let mut code = String::with_capacity(format.prefix.len() + body.len());
    code.push_str(&format.prefix);
    code.push_str(std::str::from_utf8(&body).unwrap_or_default());
    code
}

/// Draws `n` distinct random code numbers of `format` (indices into its code space) from the
/// OS-seeded CSPRNG, in ascending order: written in this order, a B-tree index only ever
/// appends, which is what makes bulk generation fast. The caller has checked the code space.
pub fn random_indices(format: &CodeFormat, n: usize) -> Vec<u128> {
    random_indices_in(0, code_space(format.charset, format.length), n)
}

/// Draws `n` (≤ `width`) distinct random numbers from `start..start + width`, ascending.
pub fn random_indices_in(start: u128, width: u128, n: usize) -> Vec<u128> {
    let mut rng = rand::rng();
    let n = n.min(width.min(usize::MAX as u128) as usize);
    let mut picked: Vec<u128> = Vec::with_capacity(n);
    while picked.len() < n {
        let missing = n - picked.len();
        picked.extend((0..missing).map(|_| start + rng.random_range(0..width)));
        picked.sort_unstable();
        picked.dedup();
    }
    picked
}

/// One stripe of a large generation: `count` codes drawn from `start..start + width`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stripe {
    pub start: u128,
    pub width: u128,
    pub count: u64,
}

/// Draws held in memory at once by a generation (about 16 MB of code numbers).
pub const STRIPE_DRAWS: u64 = 1_000_000;

/// Cuts a generation of `n` codes from a space of `space` into equal stripes of the space,
/// each with an equal share of `n` (at most `STRIPE_DRAWS`): drawn one stripe at a time, the
/// codes come out in ascending order (what keeps the index append-only) while memory holds one
/// stripe — 30 million codes need no more than 1 million.
pub fn stripes(space: u128, n: u64) -> Vec<Stripe> {
    let k = n.div_ceil(STRIPE_DRAWS).max(1);
    let width = space / k as u128;
    (0..k)
        .map(|i| Stripe {
            start: width * i as u128,
            width: if i + 1 == k {
                space - width * i as u128
            } else {
                width
            },
            count: n / k + u64::from(i < n % k),
        })
        .collect()
}

/// `n` distinct random codes of `format`, sorted.
pub fn random_codes(format: &CodeFormat, n: usize) -> Vec<String> {
    random_indices(format, n)
        .into_iter()
        .map(|i| code_at(format, i))
        .collect()
}

/// The last day on which a coupon issued at `issued_at` can be redeemed (ISS-3), in the org's
/// time zone, or `None` when it does not expire:
/// - with the offer: the offer's (or claiming campaign's) end date; none when there is none
///   (an offer used by a loyalty program);
/// - N days from issue: the issue day counts as day 1, so 7 days from Monday ends on Sunday;
/// - N month-ends from issue: the issue month's end counts as the first, so 1 month-end is the
///   end of the issue month and 2 from 31 January is 28 (or 29) February;
///
/// The result is never after `offer_end`.
pub fn coupon_valid_till(
    issued_at: DateTime<Utc>,
    rule: CouponExpiry,
    offer_end: Option<NaiveDate>,
    tz: Tz,
) -> Option<NaiveDate> {
    let issued_on = issued_at.with_timezone(&tz).date_naive();
    let own = match rule {
        CouponExpiry::WithOffer => return offer_end,
        CouponExpiry::DaysFromIssue(n) => issued_on + Duration::days(i64::from(n.max(1)) - 1),
        CouponExpiry::MonthEndsFromIssue(n) => month_end(issued_on, n.max(1) - 1),
    };
    Some(match offer_end {
        Some(end) if end < own => end,
        _ => own,
    })
}

/// The last day of the month `months` after `date`'s month.
pub fn month_end(date: NaiveDate, months: u32) -> NaiveDate {
    let total = date.year() * 12 + date.month0() as i32 + months as i32 + 1;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12) as u32);
    NaiveDate::from_ymd_opt(year, month0 + 1, 1)
        .map(|first| first - Duration::days(1))
        .unwrap_or(NaiveDate::MAX)
}

/// The instant a coupon valid till `date` (inclusive, org time zone) stops being redeemable.
pub fn expires_at(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let next = (date + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    tz.from_local_datetime(&next)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_generation_is_drawn_in_stripes_that_cover_the_space_in_order() {
        let space = 36u128.pow(10);
        for n in [1u64, 999_999, 1_000_000, 1_000_001, 30_000_000] {
            let s = stripes(space, n);
            assert_eq!(s.iter().map(|x| x.count).sum::<u64>(), n, "n {n}");
            assert!(s.iter().all(|x| x.count <= STRIPE_DRAWS), "n {n}");
            assert_eq!(s[0].start, 0);
            for w in s.windows(2) {
                assert_eq!(w[0].start + w[0].width, w[1].start, "contiguous");
            }
            let last = s.last().unwrap();
            assert_eq!(last.start + last.width, space);
        }
        assert_eq!(stripes(space, 30_000_000).len(), 30);
        // A stripe's draw stays inside it, distinct and ascending.
        let drawn = random_indices_in(1_000, 50, 40);
        assert_eq!(drawn.len(), 40);
        assert!(drawn.windows(2).all(|w| w[0] < w[1]));
        assert!(drawn.iter().all(|i| (1_000..1_050).contains(i)));
    }
    use chrono_tz::{America, Asia};
    use std::collections::HashSet;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn at(tz: Tz, y: i32, m: u32, day: u32, h: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, m, day, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn codes_match_case_insensitively_and_trimmed() {
        assert_eq!(normalise_code("  glow15 ").unwrap(), "GLOW15");
        assert_eq!(normalise_code("   "), None);
    }

    #[test]
    fn the_code_space_refuses_impossible_requests() {
        let four_digits = CodeFormat {
            prefix: String::new(),
            length: 4,
            charset: Charset::Numeric,
        };
        let e = check_code_space(&four_digits, 10_000_000, 0).unwrap_err();
        assert!(e.to_string().contains("this format allows 10000 codes"));
        assert!(check_code_space(&four_digits, 5_000, 0).is_ok());
        assert!(
            check_code_space(&four_digits, 1, 5_000).is_err(),
            "existing codes count"
        );
        let ten = CodeFormat {
            prefix: "X".into(),
            length: 10,
            charset: Charset::Unambiguous,
        };
        assert!(check_code_space(&ten, 30_000_000, 0).is_ok());
    }

    #[test]
    fn a_code_has_the_shape_of_a_generated_code_only_with_its_prefix_length_and_charset() {
        let f = |prefix: &str, length, charset| CodeFormat {
            prefix: prefix.into(),
            length,
            charset,
        };
        let cases = [
            (f("", 8, Charset::Alphanumeric), "SUMMER24", true),
            (f("", 8, Charset::Alphanumeric), "summer24", true),
            (f("", 8, Charset::Alphanumeric), "SUMMER-24", false),
            (f("", 8, Charset::Alphanumeric), "SUMMER2", false),
            (f("", 8, Charset::Numeric), "SUMMER24", false),
            (f("", 4, Charset::Numeric), "2024", true),
            (f("WEL", 5, Charset::Alphanumeric), "WELAB12C", true),
            (f("WEL", 5, Charset::Alphanumeric), "XELAB12C", false),
            (f("", 4, Charset::Unambiguous), "AB10", false),
            (f("", 4, Charset::Unambiguous), "AB23", true),
        ];
        for (format, code, want) in cases {
            assert_eq!(format.could_make(code), want, "{format:?} {code}");
        }
        assert_eq!(
            f("WEL", 5, Charset::Alphanumeric).words(),
            "5 letters and digits after WEL"
        );
    }

    #[test]
    fn random_codes_are_distinct_and_well_formed() {
        let f = CodeFormat {
            prefix: "DW".into(),
            length: 6,
            charset: Charset::Unambiguous,
        };
        let codes = random_codes(&f, 20_000);
        assert_eq!(codes.iter().collect::<HashSet<_>>().len(), 20_000);
        let alphabet = Charset::Unambiguous.alphabet();
        for c in &codes {
            assert!(c.starts_with("DW") && c.len() == 8);
            assert!(c[2..].bytes().all(|b| alphabet.contains(&b)), "{c}");
        }
        let digits = CodeFormat {
            prefix: String::new(),
            length: 4,
            charset: Charset::Numeric,
        };
        assert_eq!(code_at(&digits, 42), "0042");
        // Nearly the whole space still terminates with distinct codes.
        assert_eq!(random_codes(&digits, 5_000).len(), 5_000);
    }

    #[test]
    fn uploaded_codes_are_checked() {
        assert_eq!(parse_upload_code(" ab-12_x ").unwrap(), "AB-12_X");
        assert!(parse_upload_code("  ").unwrap_err().contains("blank"));
        assert!(
            parse_upload_code(&"A".repeat(41))
                .unwrap_err()
                .contains("longer")
        );
        assert!(parse_upload_code("AB 12").unwrap_err().contains("` `"));
    }

    #[test]
    fn randomized_codes_start_with_the_orgs_prefix_and_keep_the_samples_length_and_kind() {
        // Fixed part: half the sample; the org prefix as far as one telling character is left.
        let cases: &[(&str, &str, &str, usize)] = &[
            ("ABC", "TEST12345", "ABC0", 36),
            ("ABC", "TEST123456", "ABC00", 36 * 36),
            ("ABC", "TES123", "AB0", 36),
            ("ABC", "TE123", "A0", 36),
            ("ABC", "98765", "00", 10),
            ("ABC", "987654321", "0120", 10),
            ("XYZ", "9876543210", "12300", 100),
        ];
        for &(prefix, sample, first, count) in cases {
            let all: Vec<String> = fixed_part_candidates(prefix, sample).collect();
            assert_eq!(all[0], first, "{prefix} {sample}");
            assert_eq!(all.len(), count, "{prefix} {sample}");
            assert!(all.iter().all(|f| f.len() == sample.len() / 2));
            assert_eq!(
                all.iter().collect::<std::collections::HashSet<_>>().len(),
                count
            );
        }
        let f = randomized_format("TEST12345", "ABC0");
        assert_eq!(f.length, 5);
        assert_eq!(code_space(f.charset, f.length), 36u128.pow(5));
        let numeric = randomized_format("98765", "01");
        assert_eq!(numeric.length, 3);
        for code in random_codes(&numeric, 400) {
            assert!(code.starts_with("01") && code.len() == 5);
            assert!(code.chars().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn days_from_issue_count_the_issue_day() {
        let tz = Asia::Kolkata;
        let issued = at(tz, 2026, 11, 23, 10); // a Monday
        assert_eq!(
            coupon_valid_till(issued, CouponExpiry::DaysFromIssue(7), None, tz),
            Some(d(2026, 11, 29))
        );
        assert_eq!(
            coupon_valid_till(issued, CouponExpiry::DaysFromIssue(1), None, tz),
            Some(d(2026, 11, 23))
        );
    }

    #[test]
    fn the_org_time_zone_decides_the_issue_day() {
        // 23 Nov 20:00 UTC is already 24 Nov in Kolkata but still 23 Nov in New York.
        let issued = Utc.with_ymd_and_hms(2026, 11, 23, 20, 0, 0).unwrap();
        assert_eq!(
            coupon_valid_till(issued, CouponExpiry::DaysFromIssue(1), None, Asia::Kolkata),
            Some(d(2026, 11, 24))
        );
        assert_eq!(
            coupon_valid_till(
                issued,
                CouponExpiry::DaysFromIssue(1),
                None,
                America::New_York
            ),
            Some(d(2026, 11, 23))
        );
    }

    #[test]
    fn month_ends_land_on_the_30th_28th_and_29th() {
        let tz = Asia::Kolkata;
        let rule = CouponExpiry::MonthEndsFromIssue;
        assert_eq!(
            coupon_valid_till(at(tz, 2027, 3, 31, 9), rule(2), None, tz),
            Some(d(2027, 4, 30))
        );
        assert_eq!(
            coupon_valid_till(at(tz, 2027, 1, 31, 9), rule(2), None, tz),
            Some(d(2027, 2, 28))
        );
        assert_eq!(
            coupon_valid_till(at(tz, 2028, 1, 31, 9), rule(2), None, tz),
            Some(d(2028, 2, 29))
        );
        assert_eq!(
            coupon_valid_till(at(tz, 2027, 1, 15, 9), rule(1), None, tz),
            Some(d(2027, 1, 31))
        );
        assert_eq!(
            coupon_valid_till(at(tz, 2027, 11, 30, 9), rule(3), None, tz),
            Some(d(2028, 1, 31)),
            "across the year"
        );
        for months in 0..40 {
            let end = month_end(d(2026, 1, 31), months);
            assert_eq!((end + Duration::days(1)).day(), 1, "{end} is a month end");
        }
    }

    #[test]
    fn coupons_never_outlive_the_offer() {
        let tz = Asia::Kolkata;
        let issued = at(tz, 2026, 12, 20, 9);
        let end = Some(d(2026, 12, 24));
        assert_eq!(
            coupon_valid_till(issued, CouponExpiry::DaysFromIssue(30), end, tz),
            end
        );
        assert_eq!(
            coupon_valid_till(issued, CouponExpiry::MonthEndsFromIssue(1), end, tz),
            end
        );
        assert_eq!(
            coupon_valid_till(issued, CouponExpiry::WithOffer, end, tz),
            end
        );
        assert_eq!(
            coupon_valid_till(issued, CouponExpiry::WithOffer, None, tz),
            None,
            "a loyalty program's coupon does not expire"
        );
        assert_eq!(
            coupon_valid_till(issued, CouponExpiry::DaysFromIssue(2), end, tz),
            Some(d(2026, 12, 21))
        );
    }

    #[test]
    fn a_coupon_stops_at_midnight_org_time() {
        assert_eq!(
            expires_at(d(2026, 11, 29), Asia::Kolkata),
            Utc.with_ymd_and_hms(2026, 11, 29, 18, 30, 0).unwrap()
        );
    }
}
