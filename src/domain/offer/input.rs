//! What the offer's section parsers read: the fields of an offer (`OfferField`, each with its
//! wizard input name, its JSON API name and its wizard step) and `OfferInput`, the one way
//! the parsers read a value — implemented by the wizard's form (text as typed) and by the
//! API's body (typed values), so neither is converted into the other.

use super::form::{OfferForm, Step};
use std::fmt;

macro_rules! offer_fields {
    ($($field:ident => $form:literal, $api:literal, $step:ident;)*) => {
        /// A field of an offer: the key of its errors.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum OfferField { $($field),* }

        impl OfferField {
            pub const ALL: &[OfferField] = &[$(OfferField::$field),*];

            /// The wizard's input name (`expires_on`).
            pub fn form(self) -> &'static str {
                match self { $(OfferField::$field => $form),* }
            }

            /// The name in the JSON API's body (`validTill`).
            pub fn api(self) -> &'static str {
                match self { $(OfferField::$field => $api),* }
            }

            /// The wizard step that shows it.
            pub fn step(self) -> Step {
                match self { $(OfferField::$field => Step::$step),* }
            }
        }
    };
}

offer_fields! {
    Name => "name", "name", NameExpiry;
    PosCode => "pos_code", "posCode", NameExpiry;
    ExpiryType => "expiry_type", "expiryType", NameExpiry;
    ExpiresOn => "expires_on", "validTill", NameExpiry;
    OfferCode => "offer_code", "offerCode", NameExpiry;
    DiscountType => "discount_type", "discountType", Discount;
    DiscountValue => "discount_value", "discountValue", Discount;
    DiscountCap => "discount_cap", "discountCap", Discount;
    AppliesTo => "applies_to", "categories", Discount;
    Categories => "categories", "categories", Discount;
    Brands => "brands", "brands", Discount;
    IncludeSale => "include_sale", "includeSaleItems", Discount;
    Delivery => "delivery", "delivery", Coupons;
    Generation => "generation", "codeType", Coupons;
    CodeLength => "code_length", "codeLength", Coupons;
    CodeCharset => "code_charset", "codeCharset", Coupons;
    CodePrefix => "code_prefix", "codePrefix", Coupons;
    CommonCode => "common_code", "commonCode", Coupons;
    SampleCode => "sample_code", "sampleCode", Coupons;
    UploadWithCustomers => "upload_with_customers", "uploadWithCustomers", Coupons;
    SpecificCustomersOnly => "specific_customers_only", "specificCustomersOnly", Coupons;
    CouponExpiry => "coupon_expiry", "couponExpiryType", Coupons;
    CouponExpiryN => "coupon_expiry_n", "couponExpiryValue", Coupons;
    PastIssualOffers => "past_issual_offers", "pastIssualOffers", Advanced;
    MaxPerCustomer => "max_per_customer", "maxIssualsPerCustomer", Advanced;
    MinIssualGapDays => "min_issual_gap_days", "minIssualGapDays", Advanced;
    TotalIssualCap => "total_issual_cap", "totalIssualCap", Advanced;
    ResendText => "resend_text", "resendText", Advanced;
    Reminders => "reminders", "reminders", Advanced;
    ExpiryNotice => "expiry_notice", "expiryNotice", Advanced;
    ExpiryNoticeChannel => "expiry_notice_channel", "expiryNotice.channel", Advanced;
    ExpiryNoticeText => "expiry_notice_text", "expiryNotice.text", Advanced;
    AnyoneCanRedeem => "anyone_can_redeem", "anyUser", Advanced;
    RedemptionStart => "redemption_start", "redemptionStart", Advanced;
    RedemptionStartDays => "redemption_start_days", "redemptionStartDays", Advanced;
    RedemptionStartDate => "redemption_start_date", "redemptionStartDate", Advanced;
    MultipleRedemption => "multiple_redemption", "multipleRedemption", Advanced;
    MaxRedemptionsPerCustomer => "max_redemptions_per_customer", "maxRedemptionsPerCustomer", Advanced;
    RedemptionGapDays => "redemption_gap_days", "redemptionGapDays", Advanced;
    Scope => "scope", "stores", Advanced;
    Stores => "stores", "stores", Advanced;
    Tills => "tills", "tills", Advanced;
    Zones => "zones", "zones", Advanced;
    Concepts => "concepts", "concepts", Advanced;
    MinBill => "min_bill", "minBill", Advanced;
    MaxBill => "max_bill", "maxBill", Advanced;
    Weekdays => "weekdays", "weekdays", Advanced;
    Dates => "dates", "dates", Advanced;
    TimeSlots => "time_slots", "timeSlots", Advanced;
    TotalRedemptionCap => "total_redemption_cap", "maxRedeem", Advanced;
    PocReminder => "poc_reminder", "expiryReminder", Advanced;
    PocIds => "poc_ids", "expiryReminder.pocEmails", Advanced;
    PocReminderDays => "poc_reminder_days", "expiryReminder.daysBefore", Advanced;
}

impl fmt::Display for OfferField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.form())
    }
}

/// The errors of an offer, keyed by field.
pub type OfferErrors = crate::domain::FieldErrors<OfferField>;

impl OfferErrors {
    /// The message for a field, or "".
    pub fn get(&self, field: OfferField) -> &str {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
            .unwrap_or("")
    }

    /// The errors under the wizard's input names (what the templates show).
    pub fn for_form(self) -> crate::domain::FieldErrors {
        self.renamed(OfferField::form)
    }
}

/// A number or amount as it was given: typed by a person (parsed with the currency's digits,
/// thousands separators allowed), or sent as a JSON number (amounts in minor units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Given<'a> {
    Absent,
    Text(&'a str),
    Whole(i64),
    /// A JSON number with a fraction (a percentage such as 12.5).
    Real(f64),
}

impl<'a> Given<'a> {
    /// Text as typed: blank is absent.
    pub fn typed(raw: &'a str) -> Given<'a> {
        if raw.trim().is_empty() {
            Given::Absent
        } else {
            Given::Text(raw)
        }
    }

    pub fn of(n: Option<impl Into<i64>>) -> Given<'a> {
        n.map_or(Given::Absent, |n| Given::Whole(n.into()))
    }
}

/// Records of the org a field names: ids as posted by the wizard (checked to be numbers of
/// the org's records), or ids already resolved from codes by the API.
#[derive(Debug, Clone, Copy)]
pub enum Ids<'a> {
    Posted(&'a [String]),
    Resolved(&'a [i64]),
}

/// A customer reminder row as given: days before expiry, channel, text.
pub type ReminderGiven<'a> = (&'a str, &'a str, &'a str);

/// Where the section parsers read an offer from. Choices (`expiry_type`, `generation` …) are
/// read with `text` and compared without regard to case.
pub trait OfferInput {
    /// A text or a choice ("" when not given).
    fn text(&self, field: OfferField) -> &str;
    /// A whole number or an amount.
    fn number(&self, field: OfferField) -> Given<'_>;
    /// A yes/no choice.
    fn flag(&self, field: OfferField) -> bool;
    /// The org's records a field names.
    fn ids(&self, field: OfferField) -> Ids<'_>;
    /// A list of short values (weekdays, dates).
    fn list(&self, field: OfferField) -> Vec<&str>;
    /// The customer reminders, in order.
    fn reminders(&self) -> Vec<ReminderGiven<'_>>;
}

impl OfferForm {
    fn raw(&self, field: OfferField) -> &str {
        use OfferField as F;
        match field {
            F::Name => &self.name,
            F::PosCode => &self.pos_code,
            F::ExpiryType => &self.expiry_type,
            F::ExpiresOn => &self.expires_on,
            F::OfferCode => &self.offer_code,
            F::DiscountType => &self.discount_type,
            F::DiscountValue => &self.discount_value,
            F::DiscountCap => &self.discount_cap,
            F::AppliesTo => &self.applies_to,
            F::IncludeSale => &self.include_sale,
            F::Delivery => &self.delivery,
            F::Generation => &self.generation,
            F::CodeLength => &self.code_length,
            F::CodeCharset => &self.code_charset,
            F::CodePrefix => &self.code_prefix,
            F::CommonCode => &self.common_code,
            F::SampleCode => &self.sample_code,
            F::UploadWithCustomers => &self.upload_with_customers,
            F::SpecificCustomersOnly => &self.specific_customers_only,
            F::CouponExpiry => &self.coupon_expiry,
            F::CouponExpiryN => &self.coupon_expiry_n,
            F::MaxPerCustomer => &self.max_per_customer,
            F::MinIssualGapDays => &self.min_issual_gap_days,
            F::TotalIssualCap => &self.total_issual_cap,
            F::ResendText => &self.resend_text,
            F::ExpiryNotice => &self.expiry_notice,
            F::ExpiryNoticeChannel => &self.expiry_notice_channel,
            F::ExpiryNoticeText => &self.expiry_notice_text,
            F::AnyoneCanRedeem => &self.anyone_can_redeem,
            F::RedemptionStart => &self.redemption_start,
            F::RedemptionStartDays => &self.redemption_start_days,
            F::RedemptionStartDate => &self.redemption_start_date,
            F::MultipleRedemption => &self.multiple_redemption,
            F::MaxRedemptionsPerCustomer => &self.max_redemptions_per_customer,
            F::RedemptionGapDays => &self.redemption_gap_days,
            F::MinBill => &self.min_bill,
            F::MaxBill => &self.max_bill,
            F::Dates => &self.dates,
            F::TimeSlots => &self.time_slots,
            F::TotalRedemptionCap => &self.total_redemption_cap,
            F::PocReminder => &self.poc_reminder,
            F::PocReminderDays => &self.poc_reminder_days,
            F::Categories
            | F::Brands
            | F::PastIssualOffers
            | F::Reminders
            | F::Scope
            | F::Stores
            | F::Tills
            | F::Zones
            | F::Concepts
            | F::Weekdays
            | F::PocIds => "",
        }
    }

    fn raw_list(&self, field: OfferField) -> &[String] {
        use OfferField as F;
        match field {
            F::Categories => &self.categories,
            F::Brands => &self.brands,
            F::PastIssualOffers => &self.past_issual_offers,
            F::Stores => &self.stores,
            F::Tills => &self.tills,
            F::Zones => &self.zones,
            F::Concepts => &self.concepts,
            F::Weekdays => &self.weekdays,
            F::PocIds => &self.poc_ids,
            _ => &[],
        }
    }
}

impl OfferInput for OfferForm {
    fn text(&self, field: OfferField) -> &str {
        self.raw(field)
    }

    fn number(&self, field: OfferField) -> Given<'_> {
        Given::typed(self.raw(field))
    }

    fn flag(&self, field: OfferField) -> bool {
        OfferForm::is_on(self.raw(field))
    }

    fn ids(&self, field: OfferField) -> Ids<'_> {
        Ids::Posted(self.raw_list(field))
    }

    fn list(&self, field: OfferField) -> Vec<&str> {
        if field == OfferField::Dates {
            return self
                .dates
                .split([',', ';', '\n', ' '])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect();
        }
        self.raw_list(field).iter().map(String::as_str).collect()
    }

    fn reminders(&self) -> Vec<ReminderGiven<'_>> {
        fn at(v: &[String], i: usize) -> &str {
            v.get(i).map(String::as_str).unwrap_or("")
        }
        (0..self.reminder_days.len().max(self.reminder_text.len()))
            .map(|i| {
                (
                    at(&self.reminder_days, i),
                    at(&self.reminder_channel, i),
                    at(&self.reminder_text, i),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_has_one_form_name_and_one_step() {
        let mut names: Vec<&str> = OfferField::ALL.iter().map(|f| f.form()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), OfferField::ALL.len());
        // The API names seed 001's integrations use for the fields they send.
        assert_eq!(OfferField::ExpiresOn.api(), "validTill");
        assert_eq!(OfferField::TotalRedemptionCap.api(), "maxRedeem");
        assert_eq!(OfferField::Generation.api(), "codeType");
        assert_eq!(OfferField::PocReminderDays.step(), Step::Advanced);
        assert_eq!(OfferField::ExpiryNoticeText.api(), "expiryNotice.text");
        assert_eq!(OfferField::ExpiryNotice.step(), Step::Advanced);
    }

    #[test]
    fn the_form_gives_blank_numbers_as_absent_and_splits_dates() {
        let f = OfferForm {
            code_length: "  ".into(),
            min_bill: "1,000".into(),
            dates: "2026-12-24, 2026-12-31\n2027-01-01".into(),
            ..OfferForm::default()
        };
        assert_eq!(f.number(OfferField::CodeLength), Given::Absent);
        assert_eq!(f.number(OfferField::MinBill), Given::Text("1,000"));
        assert_eq!(
            f.list(OfferField::Dates),
            ["2026-12-24", "2026-12-31", "2027-01-01"]
        );
    }
}
