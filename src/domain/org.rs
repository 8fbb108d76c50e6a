//! The organisation: name, currency, time zone (ORG-1).

use super::{FieldError, FieldErrors, parse_name};
use chrono_tz::Tz;

/// Currencies the console offers, with the number of minor-unit digits (ISO 4217).
pub const CURRENCIES: &[(&str, u32, &str)] = &[
    ("INR", 2, "Indian rupee (₹)"),
    ("USD", 2, "US dollar ($)"),
    ("EUR", 2, "Euro (€)"),
    ("GBP", 2, "Pound sterling (£)"),
    ("AED", 2, "UAE dirham"),
    ("SAR", 2, "Saudi riyal"),
    ("QAR", 2, "Qatari riyal"),
    ("KWD", 3, "Kuwaiti dinar"),
    ("BHD", 3, "Bahraini dinar"),
    ("OMR", 3, "Omani rial"),
    ("SGD", 2, "Singapore dollar"),
    ("MYR", 2, "Malaysian ringgit"),
    ("IDR", 2, "Indonesian rupiah"),
    ("THB", 2, "Thai baht"),
    ("PHP", 2, "Philippine peso"),
    ("VND", 0, "Vietnamese dong"),
    ("JPY", 0, "Japanese yen"),
    ("CNY", 2, "Chinese yuan"),
    ("AUD", 2, "Australian dollar"),
    ("CAD", 2, "Canadian dollar"),
    ("ZAR", 2, "South African rand"),
    ("LKR", 2, "Sri Lankan rupee"),
    ("BDT", 2, "Bangladeshi taka"),
    ("NPR", 2, "Nepalese rupee"),
];

/// An ISO 4217 currency the product supports; amounts are kept in its minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    code: &'static str,
    minor_digits: u32,
}

impl Currency {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let code = raw.trim().to_uppercase();
        CURRENCIES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|(c, d, _)| Currency {
                code: c,
                minor_digits: *d,
            })
            .ok_or_else(|| {
                FieldError::new(field, "must be a supported ISO currency code such as INR")
            })
    }

    pub fn code(self) -> &'static str {
        self.code
    }

    pub fn minor_digits(self) -> u32 {
        self.minor_digits
    }
}

/// An org's time zone as rows carry it (decoded once from its IANA name by the store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgTz(pub Tz);

impl std::ops::Deref for OrgTz {
    type Target = Tz;
    fn deref(&self) -> &Tz {
        &self.0
    }
}

/// Parses an IANA time zone name such as `Asia/Kolkata`.
pub fn parse_time_zone(field: &'static str, raw: &str) -> Result<Tz, FieldError> {
    raw.trim()
        .parse::<Tz>()
        .map_err(|_| FieldError::new(field, "must be an IANA time zone such as Asia/Kolkata"))
}

/// The editable settings of an org.
#[derive(Debug, Clone)]
pub struct OrgSettings {
    pub name: String,
    pub currency: Currency,
    pub time_zone: Tz,
}

impl OrgSettings {
    pub fn parse(name: &str, currency: &str, time_zone: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.take(parse_name("name", name, 120));
        let currency = errors.take(Currency::parse("currency", currency));
        let time_zone = errors.take(parse_time_zone("time_zone", time_zone));
        match (name, currency, time_zone) {
            (Some(name), Some(currency), Some(time_zone)) if errors.is_empty() => Ok(Self {
                name,
                currency,
                time_zone,
            }),
            _ => Err(errors),
        }
    }
}

/// Alphabet of org code prefixes: upper-case letters without I and O (read aloud at tills).
pub const PREFIX_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_report_each_field() {
        let s = OrgSettings::parse("Acme", "inr", "Asia/Kolkata").unwrap();
        assert_eq!(s.currency.code(), "INR");
        assert_eq!(s.currency.minor_digits(), 2);
        let e = OrgSettings::parse("", "XXX", "Mars/Base").unwrap_err();
        assert_eq!(e.0.len(), 3);
        assert!(!e.get("time_zone").is_empty());
    }
}
