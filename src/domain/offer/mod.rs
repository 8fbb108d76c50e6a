//! Offers (coupon series): the typed rules a marketing manager sets up (OFF-2, OFF-3) and the
//! code generation settings (COD-1..4). Built from a form by `form::parse`; described in plain
//! words by `describe`.

pub mod describe;
pub mod diff;
pub mod edit;
pub mod fields;
pub mod form;
pub mod input;
pub mod notice;
pub mod parse;

pub use notice::ExpiryNotice;

use chrono::NaiveDate;

/// When the offer ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferExpiry {
    Fixed(NaiveDate),
    /// Ends when the campaign that claims it ends.
    WithCampaign,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discount {
    /// A fixed amount in the org currency's minor units.
    Fixed { amount: i64 },
    /// A percentage in basis points (1500 = 15%), optionally capped at an amount.
    Percent { basis_points: i64, cap: Option<i64> },
}

impl Discount {
    /// Its stored columns (kind, value, cap).
    pub fn columns(&self) -> (&'static str, i64, Option<i64>) {
        match *self {
            Discount::Fixed { amount } => ("ABS", amount, None),
            Discount::Percent { basis_points, cap } => ("PERC", basis_points, cap),
        }
    }

    /// The discount in words, one wording wherever the product says it (description,
    /// dashboard, reminders, resends): "₹200 off", "12.5% off", "15% off, at most ₹500".
    pub fn words(&self, currency: &str, digits: u32) -> String {
        use crate::domain::money::{format_amount, format_percent};
        match *self {
            Discount::Fixed { amount } => {
                format!("{} off", format_amount(amount, currency, digits))
            }
            Discount::Percent {
                basis_points,
                cap: None,
            } => format!("{} off", format_percent(basis_points)),
            Discount::Percent {
                basis_points,
                cap: Some(cap),
            } => format!(
                "{} off, at most {}",
                format_percent(basis_points),
                format_amount(cap, currency, digits)
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applicability {
    All,
    Selected {
        categories: Vec<i64>,
        brands: Vec<i64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    ThisSystem,
    ThirdParty,
}

/// Characters of generated unique codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Numeric,
    Alphanumeric,
    /// Upper-case letters and digits without 0/O, 1/I/L.
    Unambiguous,
}

impl Charset {
    pub fn as_str(self) -> &'static str {
        match self {
            Charset::Numeric => "numeric",
            Charset::Alphanumeric => "alphanumeric",
            Charset::Unambiguous => "unambiguous",
        }
    }

    pub fn alphabet(self) -> &'static [u8] {
        match self {
            Charset::Numeric => b"0123456789",
            Charset::Alphanumeric => b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            Charset::Unambiguous => b"23456789ABCDEFGHJKMNPQRSTUVWXYZ",
        }
    }

    pub fn parse(raw: &str) -> Option<Charset> {
        [
            Charset::Numeric,
            Charset::Alphanumeric,
            Charset::Unambiguous,
        ]
        .into_iter()
        .find(|c| c.as_str() == raw)
    }
}

/// How the offer's codes are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generation {
    /// COD-1: unique random codes of `length` characters after `prefix`.
    Unique {
        length: u32,
        charset: Charset,
        prefix: String,
    },
    /// COD-2: one code for everyone.
    Common { code: String },
    /// COD-3: existing codes uploaded by CSV, optionally with the customers they belong to.
    Upload { with_customers: bool },
    /// COD-4: codes shaped like `sample`: a fixed part unique to the org, the rest random.
    Randomized { sample: String },
}

/// How an offer's codes are made, without the settings (a list row's "Kind").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    Unique,
    Common,
    Upload,
    Randomized,
}

impl CodeKind {
    /// The stored (and wizard) value.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeKind::Unique => "unique",
            CodeKind::Common => "common",
            CodeKind::Upload => "upload",
            CodeKind::Randomized => "randomized",
        }
    }

    pub fn parse(s: &str) -> Option<CodeKind> {
        [
            CodeKind::Unique,
            CodeKind::Common,
            CodeKind::Upload,
            CodeKind::Randomized,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            CodeKind::Unique => "Unique codes",
            CodeKind::Common => "Common code",
            CodeKind::Upload => "Uploaded codes",
            CodeKind::Randomized => "Randomized common codes",
        }
    }
}

impl Generation {
    pub fn code_kind(&self) -> CodeKind {
        match self {
            Generation::Unique { .. } => CodeKind::Unique,
            Generation::Common { .. } => CodeKind::Common,
            Generation::Upload { .. } => CodeKind::Upload,
            Generation::Randomized { .. } => CodeKind::Randomized,
        }
    }

    /// The stored (and wizard) value of its kind.
    pub fn kind(&self) -> &'static str {
        self.code_kind().as_str()
    }

    pub fn label(&self) -> &'static str {
        self.code_kind().label()
    }
}

/// How many distinct codes a unique-code format allows (saturating).
pub fn code_space(charset: Charset, length: u32) -> u128 {
    (charset.alphabet().len() as u128).saturating_pow(length)
}

/// When an issued coupon expires (ISS-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponExpiry {
    WithOffer,
    DaysFromIssue(u32),
    MonthEndsFromIssue(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    /// Its stored name (`sms`, `email`).
    pub fn parse(raw: &str) -> Option<Channel> {
        [Channel::Sms, Channel::Email]
            .into_iter()
            .find(|c| c.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::Sms => "SMS",
            Channel::Email => "email",
        }
    }
}

/// A coupon-expiry reminder to customers (OFF-3, REM-2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerReminder {
    pub days_before: u32,
    pub channel: Channel,
    pub text: String,
}

/// Placeholders reminder, expiry notice and resend texts may use.
pub const PLACEHOLDERS: &[&str] = &["first_name", "code", "expiry", "discount"];

/// The text for a customer whose first name is not known: `{first_name}` is taken out with
/// the space or comma that joined it, so "Hi {first_name}, your gift" reads "Hi, your gift".
pub fn without_first_name(text: &str) -> String {
    text.replace(" {first_name},", ",")
        .replace(" {first_name}", "")
        .replace("{first_name}, ", "")
        .replace("{first_name} ", "")
        .replace("{first_name}", "")
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssualRules {
    /// Customers who got any of these offers in the last 6 months are not issued this one.
    pub past_issual_offers: Vec<i64>,
    pub max_per_customer: Option<u32>,
    pub min_gap_days: Option<u32>,
    pub total_cap: Option<i64>,
    pub resend_text: Option<String>,
    pub reminders: Vec<CustomerReminder>,
    /// The notice sent when a coupon expired unused, if any (`notice.rs`).
    pub expiry_notice: Option<ExpiryNotice>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedemptionStart {
    OnIssue,
    DaysAfterIssue(u32),
    OnDate(NaiveDate),
}

/// The org units an offer can be restricted to (API-1's orgEntityType).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScopeKind {
    Store,
    Till,
    Zone,
    Concept,
}

impl ScopeKind {
    pub const ALL: [ScopeKind; 4] = [
        ScopeKind::Store,
        ScopeKind::Till,
        ScopeKind::Zone,
        ScopeKind::Concept,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Store => "STORE",
            ScopeKind::Till => "TILL",
            ScopeKind::Zone => "ZONE",
            ScopeKind::Concept => "CONCEPT",
        }
    }

    pub fn parse(raw: &str) -> Option<ScopeKind> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(raw.trim()))
    }

    pub fn noun(self, n: usize) -> &'static str {
        match (self, n == 1) {
            (ScopeKind::Store, true) => "store",
            (ScopeKind::Store, false) => "stores",
            (ScopeKind::Till, true) => "till",
            (ScopeKind::Till, false) => "tills",
            (ScopeKind::Zone, true) => "zone",
            (ScopeKind::Zone, false) => "zones",
            (ScopeKind::Concept, true) => "concept",
            (ScopeKind::Concept, false) => "concepts",
        }
    }
}

/// A redemption window within a day, in minutes after midnight; `end < start` crosses midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSlot {
    pub start: u16,
    pub end: u16,
}

impl TimeSlot {
    /// Whether minute-of-day `m` falls in the slot (start inclusive, end exclusive).
    pub fn contains(self, m: u16) -> bool {
        if self.start < self.end {
            m >= self.start && m < self.end
        } else {
            m >= self.start || m < self.end
        }
    }

    /// Slots as the store keeps them: `to_text` of each, joined by commas (`16:00-18:00,22:00-02:00`);
    /// `None` for anything else.
    pub fn parse_stored(stored: &str) -> Option<Vec<TimeSlot>> {
        let minutes = |t: &str| {
            let (h, m) = t.split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h < 24 && m < 60).then_some(h * 60 + m)
        };
        stored
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|slot| {
                let (a, b) = slot.split_once('-')?;
                Some(TimeSlot {
                    start: minutes(a)?,
                    end: minutes(b)?,
                })
            })
            .collect()
    }

    pub fn to_text(self) -> String {
        format!(
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

/// Days of the week, Monday = bit 0. Empty means every day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Weekdays(pub u8);

pub const WEEKDAY_NAMES: [(&str, &str); 7] = [
    ("mon", "Mon"),
    ("tue", "Tue"),
    ("wed", "Wed"),
    ("thu", "Thu"),
    ("fri", "Fri"),
    ("sat", "Sat"),
    ("sun", "Sun"),
];

impl Weekdays {
    pub fn is_every_day(self) -> bool {
        self.0 == 0 || self.0 == 0x7f
    }

    pub fn has(self, index: usize) -> bool {
        self.0 & (1 << index) != 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedemptionRules {
    pub anyone_can_redeem: bool,
    pub start: RedemptionStart,
    /// `Some` when a coupon may be redeemed more than once.
    pub multiple: Option<MultipleRedemption>,
    pub scope: Vec<(ScopeKind, i64)>,
    pub min_bill: Option<i64>,
    pub max_bill: Option<i64>,
    pub weekdays: Weekdays,
    pub dates: Vec<NaiveDate>,
    pub time_slots: Vec<TimeSlot>,
    pub total_cap: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultipleRedemption {
    pub per_customer_max: Option<u32>,
    pub gap_days: Option<u32>,
}

/// The 10:00 offer-expiry reminder to POCs (REM-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PocReminder {
    pub poc_ids: Vec<i64>,
    pub days_before: u32,
}

/// A whole, valid offer configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferRules {
    pub name: String,
    /// The point-of-sale identifier a cashier sees.
    pub pos_code: Option<String>,
    pub expiry: OfferExpiry,
    pub discount: Discount,
    pub applicability: Applicability,
    pub include_sale_items: bool,
    pub delivery: Delivery,
    pub generation: Generation,
    pub specific_customers_only: bool,
    pub coupon_expiry: CouponExpiry,
    pub issual: IssualRules,
    pub redemption: RedemptionRules,
    pub poc_reminder: Option<PocReminder>,
}

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod words_tests;
