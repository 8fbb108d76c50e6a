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

/// The accent colour of customers' pages when an org has not chosen one (a deep teal: white
/// text on it reads at 5.5:1).
pub const DEFAULT_ACCENT: &str = "#0f766e";
/// The longest display name customers' pages show.
pub const BRAND_NAME_MAX: usize = 80;
/// The longest logo URL kept.
pub const LOGO_URL_MAX: usize = 500;
/// The contrast white text must keep on the accent colour (WCAG's 3:1 for large text and
/// controls): customers' pages print button labels and the brand bar in white on it.
pub const ACCENT_MIN_CONTRAST: f64 = 3.0;

/// What customers' pages show of the brand: every value set, defaults filled in. Made by
/// `BrandSettings::brand` from settings that were parsed, so each value is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    /// The display name (the org's name unless one was set).
    pub name: String,
    /// An `https://` URL or a path on this server starting with `/`.
    pub logo_url: Option<String>,
    /// `#rrggbb`, lower case.
    pub accent: String,
}

/// An org's brand settings as chosen: `None` keeps the default (columns `orgs.brand_*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrandSettings {
    pub name: Option<String>,
    pub logo_url: Option<String>,
    pub accent: Option<String>,
}

/// The brand form's field names.
pub const BRAND_NAME: &str = "brand_name";
pub const BRAND_LOGO_URL: &str = "brand_logo_url";
pub const BRAND_ACCENT: &str = "brand_accent";

impl BrandSettings {
    /// Parses the form (or stored columns); a blank value keeps the default.
    pub fn parse(name: &str, logo_url: &str, accent: &str) -> Result<BrandSettings, FieldErrors> {
        let mut errors = FieldErrors::default();
        let blank = |s: &str| s.trim().is_empty();
        let name = if blank(name) {
            None
        } else {
            errors.take(parse_name(BRAND_NAME, name, BRAND_NAME_MAX))
        };
        let logo_url = if blank(logo_url) {
            None
        } else {
            errors.take(parse_logo_url(BRAND_LOGO_URL, logo_url))
        };
        let accent = if blank(accent) {
            None
        } else {
            errors.take(parse_accent(BRAND_ACCENT, accent))
        };
        errors.into_result().map(|()| BrandSettings {
            name,
            logo_url,
            accent,
        })
    }

    /// The brand with the defaults filled in: the org's name, no logo, `DEFAULT_ACCENT`.
    pub fn brand(&self, org_name: &str) -> Brand {
        Brand {
            name: self.name.clone().unwrap_or_else(|| org_name.to_string()),
            logo_url: self.logo_url.clone(),
            accent: self
                .accent
                .clone()
                .unwrap_or_else(|| DEFAULT_ACCENT.to_string()),
        }
    }
}

/// A logo's address: `https://host/…`, or a path on this server (`/static/logo.svg`); no
/// spaces, quotes or angle brackets, at most `LOGO_URL_MAX` characters.
pub fn parse_logo_url(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    if s.chars().count() > LOGO_URL_MAX {
        return Err(FieldError::new(
            field,
            format!("must be at most {LOGO_URL_MAX} characters"),
        ));
    }
    if s.chars().any(|c| {
        c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '\\' | '`')
    }) {
        return Err(FieldError::new(
            field,
            "must not contain spaces, quotes or angle brackets",
        ));
    }
    let https_host = s
        .get(..8)
        .filter(|p| p.eq_ignore_ascii_case("https://"))
        .map(|_| &s[8..]);
    let ok = match https_host {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !host.contains('@')
        }
        // A path on this server; "//host" would be another server over any scheme.
        None => s.starts_with('/') && !s.starts_with("//"),
    };
    if ok {
        Ok(s.to_string())
    } else {
        Err(FieldError::new(
            field,
            "must start with https:// and a host name, or be a path on this server starting with / (such as /static/logo.svg)",
        ))
    }
}

/// An accent colour `#rrggbb` (the `#` may be left out), kept in lower case; dark enough for
/// white text on it (`ACCENT_MIN_CONTRAST`).
pub fn parse_accent(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    let hex = s.strip_prefix('#').unwrap_or(s);
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(FieldError::new(
            field,
            "must be a colour written #rrggbb, such as #0f766e",
        ));
    }
    let hex = hex.to_ascii_lowercase();
    let contrast = white_contrast(&hex);
    if contrast < ACCENT_MIN_CONTRAST {
        return Err(FieldError::new(
            field,
            format!(
                "is too light: white text on it (the brand bar, the buttons) would be hard to read ({contrast:.1}:1, at least {ACCENT_MIN_CONTRAST:.0}:1 is needed); choose a darker colour"
            ),
        ));
    }
    Ok(format!("#{hex}"))
}

/// White's contrast ratio against `rrggbb` (WCAG 2 relative luminance).
fn white_contrast(hex: &str) -> f64 {
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
    1.05 / (l + 0.05)
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

    #[test]
    fn brand_defaults_fill_what_was_not_set() {
        let b = BrandSettings::parse("  ", "", "").unwrap();
        assert_eq!(b, BrandSettings::default());
        let brand = b.brand("Acme");
        assert_eq!(brand.name, "Acme");
        assert_eq!(brand.logo_url, None);
        assert_eq!(brand.accent, DEFAULT_ACCENT);
        assert!(parse_accent("a", DEFAULT_ACCENT).is_ok());
    }

    #[test]
    fn brand_values_are_parsed_and_normalised() {
        let b = BrandSettings::parse(
            " Acme Stores ",
            "https://cdn.example.com/logo.png?v=2",
            "1D4ED8",
        )
        .unwrap();
        let brand = b.brand("Acme");
        assert_eq!(brand.name, "Acme Stores");
        assert_eq!(
            brand.logo_url.as_deref(),
            Some("https://cdn.example.com/logo.png?v=2")
        );
        assert_eq!(brand.accent, "#1d4ed8");
        assert_eq!(
            parse_logo_url("l", "/static/logo.svg").unwrap(),
            "/static/logo.svg"
        );
        assert!(parse_logo_url("l", "HTTPS://Example.com").is_ok());
    }

    #[test]
    fn bad_brand_values_are_refused_each_by_its_field() {
        // (logo url) → refused
        for bad in [
            "http://example.com/logo.png",
            "javascript:alert(1)",
            "//evil.example/logo.png",
            "https://",
            "https:///logo.png",
            "https://user@host/logo.png",
            "logo.png",
            "/a b.png",
            "/a\".png",
            "data:image/png;base64,AAAA",
        ] {
            assert!(parse_logo_url("l", bad).is_err(), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(LOGO_URL_MAX));
        assert!(
            parse_logo_url("l", &long)
                .unwrap_err()
                .message
                .contains("at most 500")
        );
        for bad in ["red", "#12345", "#1234567", "#12345g", "rgb(1,2,3)"] {
            assert!(
                parse_accent("a", bad)
                    .unwrap_err()
                    .message
                    .contains("#rrggbb"),
                "{bad}"
            );
        }
        // White text cannot be read on white or yellow.
        for light in ["#ffffff", "#ffeb3b", "#a3e635"] {
            assert!(
                parse_accent("a", light)
                    .unwrap_err()
                    .message
                    .contains("too light"),
                "{light}"
            );
        }
        assert!(parse_accent("a", "#000000").is_ok());
        let e = BrandSettings::parse(&"x".repeat(81), "ftp://x", "blue").unwrap_err();
        assert_eq!(e.0.len(), 3);
        assert!(e.get(BRAND_NAME).contains("at most 80"));
        assert!(!e.get(BRAND_LOGO_URL).is_empty());
        assert!(!e.get(BRAND_ACCENT).is_empty());
        assert!(BrandSettings::parse("Acme\u{7}", "", "").is_err());
    }
}
