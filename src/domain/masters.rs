//! Org masters (ORG-3..6): concepts, zones, stores, tills, categories, brands, POCs, consumers,
//! and the CSV formats they can be uploaded in.

use super::user::Email;
use super::{FieldError, FieldErrors, parse_name};
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

use super::csv_lines::read_csv;
pub use super::csv_lines::{CsvLines, LineError, LineSplitter, MAX_LINE_ERRORS};

/// The code of a master record (store code, till code, category code …): 1–40 characters of
/// letters, digits, `-`, `_`, `.`; kept upper case so that codes match case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MasterCode(String);

impl MasterCode {
    pub const MAX_LEN: usize = 40;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(FieldError::new(
                field,
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(FieldError::new(
                field,
                "may contain only letters, digits, '-', '_' and '.'",
            ));
        }
        Ok(Self(s.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A named master with a code (concept, zone, category, brand).
#[derive(Debug, Clone)]
pub struct NewCodedName {
    pub code: MasterCode,
    pub name: String,
}

impl NewCodedName {
    pub fn parse(code: &str, name: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let code = errors.take(MasterCode::parse("code", code));
        let name = errors.take(parse_name("name", name, 120));
        match (code, name) {
            (Some(code), Some(name)) => Ok(Self { code, name }),
            _ => Err(errors),
        }
    }
}

/// A point of contact who receives offer-expiry reminders (ORG-5).
#[derive(Debug, Clone)]
pub struct NewPoc {
    pub name: String,
    pub email: Email,
}

impl NewPoc {
    pub fn parse(name: &str, email: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.take(parse_name("name", name, 120));
        let email = errors.take(Email::parse("email", email));
        match (name, email) {
            (Some(name), Some(email)) => Ok(Self { name, email }),
            _ => Err(errors),
        }
    }
}

/// The kinds of services that consume (claim) offers (ORG-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsumerKind {
    Outbound,
    Dvs,
    Timeline,
    Loyalty,
    ThirdParty,
}

impl ConsumerKind {
    pub const ALL: [ConsumerKind; 5] = [
        ConsumerKind::Outbound,
        ConsumerKind::Dvs,
        ConsumerKind::Timeline,
        ConsumerKind::Loyalty,
        ConsumerKind::ThirdParty,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsumerKind::Outbound => "outbound",
            ConsumerKind::Dvs => "dvs",
            ConsumerKind::Timeline => "timeline",
            ConsumerKind::Loyalty => "loyalty",
            ConsumerKind::ThirdParty => "third_party",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ConsumerKind::Outbound => "Outbound campaign",
            ConsumerKind::Dvs => "DVS (bounce-back) campaign",
            ConsumerKind::Timeline => "Timeline campaign",
            ConsumerKind::Loyalty => "Loyalty program",
            ConsumerKind::ThirdParty => "Third-party integration",
        }
    }

    /// Campaigns run between a start and an end date; programs and integrations don't.
    pub fn is_campaign(self) -> bool {
        matches!(
            self,
            ConsumerKind::Outbound | ConsumerKind::Dvs | ConsumerKind::Timeline
        )
    }

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw.trim())
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "must be one of outbound, dvs, timeline, loyalty, third_party",
                )
            })
    }
}

/// A consumer of offers; campaigns carry their run dates.
#[derive(Debug, Clone)]
pub struct NewConsumer {
    pub name: String,
    pub kind: ConsumerKind,
    pub dates: Option<(NaiveDate, NaiveDate)>,
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(field: &'static str, raw: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "must be a date (YYYY-MM-DD)"))
}

impl NewConsumer {
    pub fn parse(
        name: &str,
        kind: &str,
        starts_on: &str,
        ends_on: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.take(parse_name("name", name, 120));
        let kind = errors.take(ConsumerKind::parse("kind", kind));
        let mut dates = None;
        if let Some(k) = kind {
            if k.is_campaign() {
                let start = errors.take(parse_date("starts_on", starts_on));
                let end = errors.take(parse_date("ends_on", ends_on));
                if let (Some(s), Some(e)) = (start, end) {
                    if e < s {
                        errors.push("ends_on", "must be on or after the start date");
                    } else {
                        dates = Some((s, e));
                    }
                }
            } else if !starts_on.trim().is_empty() || !ends_on.trim().is_empty() {
                errors.push(
                    "starts_on",
                    "only campaigns have start and end dates; leave them empty",
                );
            }
        }
        match (name, kind) {
            (Some(name), Some(kind)) if errors.is_empty() => Ok(Self { name, kind, dates }),
            _ => Err(errors),
        }
    }
}

/// A store row from a CSV upload: `code,name,zone,concept` (zone and concept by code).
#[derive(Debug, Clone)]
pub struct StoreRow {
    pub code: MasterCode,
    pub name: String,
    pub zone_id: i64,
    pub concept_id: Option<i64>,
}

/// A till row from a CSV upload: `code,name,store` (store by code).
#[derive(Debug, Clone)]
pub struct TillRow {
    pub code: MasterCode,
    pub name: String,
    pub store_id: i64,
}

/// The CSV kinds the masters upload accepts, with the header each expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MasterUpload {
    Stores,
    Tills,
    Zones,
    Concepts,
    Categories,
    Brands,
}

impl MasterUpload {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        match raw.trim() {
            "stores" => Ok(Self::Stores),
            "tills" => Ok(Self::Tills),
            "zones" => Ok(Self::Zones),
            "concepts" => Ok(Self::Concepts),
            "categories" => Ok(Self::Categories),
            "brands" => Ok(Self::Brands),
            _ => Err(FieldError::new(
                field,
                "must be stores, tills, zones, concepts, categories or brands",
            )),
        }
    }

    pub fn header(self) -> &'static [&'static str] {
        match self {
            Self::Stores => &["code", "name", "zone", "concept"],
            Self::Tills => &["code", "name", "store"],
            Self::Zones | Self::Concepts | Self::Categories | Self::Brands => &["code", "name"],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stores => "stores",
            Self::Tills => "tills",
            Self::Zones => "zones",
            Self::Concepts => "concepts",
            Self::Categories => "categories",
            Self::Brands => "brands",
        }
    }
}

/// Checks code and name of a row and that the code is not repeated in the file.
fn coded_row(
    fields: &[&str],
    seen: &mut HashMap<MasterCode, u64>,
    line: u64,
) -> Result<(MasterCode, String), String> {
    let code = MasterCode::parse("code", fields[0]).map_err(|e| e.to_string())?;
    let name = parse_name("name", fields[1], 120).map_err(|e| e.to_string())?;
    if let Some(first) = seen.insert(code.clone(), line) {
        return Err(format!(
            "code {} is repeated (first on line {first})",
            code.as_str()
        ));
    }
    Ok((code, name))
}

/// Parses a stores CSV against the org's zones and concepts (code → id).
pub fn parse_store_csv(
    bytes: &[u8],
    zones: &HashMap<String, i64>,
    concepts: &HashMap<String, i64>,
) -> Result<Vec<StoreRow>, Vec<LineError>> {
    let mut rows = Vec::new();
    let mut seen = HashMap::new();
    let errors = read_csv(bytes, MasterUpload::Stores.header(), |line, f| {
        let (code, name) = coded_row(f, &mut seen, line)?;
        let zone = f[2].to_ascii_uppercase();
        if zone.is_empty() {
            return Err("zone is required".into());
        }
        let zone_id = *zones
            .get(&zone)
            .ok_or_else(|| format!("zone: no zone with code {zone}"))?;
        let concept_id = if f[3].is_empty() {
            None
        } else {
            let concept = f[3].to_ascii_uppercase();
            Some(
                *concepts
                    .get(&concept)
                    .ok_or_else(|| format!("concept: no concept with code {concept}"))?,
            )
        };
        rows.push(StoreRow {
            code,
            name,
            zone_id,
            concept_id,
        });
        Ok(())
    });
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Parses a tills CSV against the org's stores (code → id).
pub fn parse_till_csv(
    bytes: &[u8],
    stores: &HashMap<String, i64>,
) -> Result<Vec<TillRow>, Vec<LineError>> {
    let mut rows = Vec::new();
    let mut seen = HashMap::new();
    let errors = read_csv(bytes, MasterUpload::Tills.header(), |line, f| {
        let (code, name) = coded_row(f, &mut seen, line)?;
        let store = f[2].to_ascii_uppercase();
        if store.is_empty() {
            return Err("store is required".into());
        }
        let store_id = *stores
            .get(&store)
            .ok_or_else(|| format!("store: no store with code {store}"))?;
        rows.push(TillRow {
            code,
            name,
            store_id,
        });
        Ok(())
    });
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Parses a categories or brands CSV (`code,name`).
pub fn parse_coded_name_csv(
    kind: MasterUpload,
    bytes: &[u8],
) -> Result<Vec<NewCodedName>, Vec<LineError>> {
    let mut rows = Vec::new();
    let mut seen = HashMap::new();
    let errors = read_csv(bytes, kind.header(), |line, f| {
        let (code, name) = coded_row(f, &mut seen, line)?;
        rows.push(NewCodedName { code, name });
        Ok(())
    });
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Parses a redemption-scope CSV (`type,code`; type STORE, TILL, ZONE or CONCEPT) against the
/// org's codes, for restricting where an offer can be redeemed (OFF-3).
pub fn parse_scope_csv(
    bytes: &[u8],
    codes: &HashMap<(crate::domain::offer::ScopeKind, String), i64>,
) -> Result<Vec<(crate::domain::offer::ScopeKind, i64)>, Vec<LineError>> {
    use crate::domain::offer::ScopeKind;
    let mut rows = Vec::new();
    let errors = read_csv(bytes, &["type", "code"], |_, f| {
        let kind = ScopeKind::parse(f[0])
            .ok_or_else(|| format!("type must be STORE, TILL, ZONE or CONCEPT, not `{}`", f[0]))?;
        let code = f[1].to_ascii_uppercase();
        if code.is_empty() {
            return Err("code is required".into());
        }
        let id = codes
            .get(&(kind, code.clone()))
            .ok_or_else(|| format!("no {} with code {code}", kind.noun(1)))?;
        if !rows.contains(&(kind, *id)) {
            rows.push((kind, *id));
        }
        Ok(())
    });
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// How a customer is identified (ISS-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentifierType {
    Mobile,
    Email,
    ExternalId,
}

impl IdentifierType {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierType::Mobile => "MOBILE",
            IdentifierType::Email => "EMAIL",
            IdentifierType::ExternalId => "EXTERNAL_ID",
        }
    }

    pub fn parse(raw: &str) -> Option<IdentifierType> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "MOBILE" => Some(IdentifierType::Mobile),
            "EMAIL" => Some(IdentifierType::Email),
            "EXTERNAL_ID" | "EXTERNALID" => Some(IdentifierType::ExternalId),
            _ => None,
        }
    }

    /// Normalises an identifier of this type: mobiles to `+`/digits (8–15 digits), emails to
    /// lower case, external ids trimmed (1–64 visible characters).
    pub fn normalise(self, raw: &str) -> Result<String, String> {
        let v = raw.trim();
        match self {
            IdentifierType::Mobile => {
                let digits: String = v
                    .chars()
                    .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
                    .collect();
                let body = digits.strip_prefix('+').unwrap_or(&digits);
                if (8..=15).contains(&body.len()) && body.chars().all(|c| c.is_ascii_digit()) {
                    Ok(digits)
                } else {
                    Err(format!(
                        "`{v}` is not a mobile number (8 to 15 digits, optionally starting with +)"
                    ))
                }
            }
            IdentifierType::Email => Email::parse("value", v)
                .map(|e| e.as_str().to_string())
                .map_err(|_| format!("`{v}` is not an email address")),
            IdentifierType::ExternalId => {
                if v.is_empty() || v.chars().count() > 64 || v.chars().any(char::is_control) {
                    Err("an external id must be 1 to 64 visible characters".into())
                } else {
                    Ok(v.to_string())
                }
            }
        }
    }
}

/// Parses a customer-list CSV (`type,value`; type MOBILE, EMAIL or EXTERNAL_ID), reporting
/// every bad or repeated line.
pub fn parse_audience_csv(bytes: &[u8]) -> Result<Vec<(IdentifierType, String)>, Vec<LineError>> {
    let mut rows = Vec::new();
    let mut seen: HashMap<(IdentifierType, String), u64> = HashMap::new();
    let errors = read_csv(bytes, &["type", "value"], |line, f| {
        let kind = IdentifierType::parse(f[0])
            .ok_or_else(|| format!("type must be MOBILE, EMAIL or EXTERNAL_ID, not `{}`", f[0]))?;
        let value = kind.normalise(f[1])?;
        if let Some(first) = seen.insert((kind, value.clone()), line) {
            return Err(format!(
                "{} {value} is repeated (first on line {first})",
                kind.as_str()
            ));
        }
        rows.push((kind, value));
        Ok(())
    });
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Codes of `rows` that are already taken, used to report "created" vs "updated".
pub fn count_existing<'a>(
    codes: impl Iterator<Item = &'a MasterCode>,
    existing: &HashSet<String>,
) -> usize {
    codes.filter(|c| existing.contains(c.as_str())).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones() -> HashMap<String, i64> {
        HashMap::from([("NORTH".to_string(), 1)])
    }

    #[test]
    fn store_csv_reports_every_bad_line() {
        let csv = "code,name,zone,concept\nS1,Store one,north,\n,No code,NORTH,\nS1,Again,NORTH,\nS3,Three,SOUTH,\nS4,Four,NORTH,XX\n\nS5 bad,Five,NORTH,\nS6,Six\n";
        let errors = parse_store_csv(csv.as_bytes(), &zones(), &HashMap::new()).unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7, 8, 9], "{errors:?}");
        assert!(errors[1].message.contains("repeated (first on line 2)"));
        assert!(errors[2].message.contains("no zone with code SOUTH"));
        assert!(errors[4].message.contains("blank line"));
        assert!(errors[6].message.contains("expected 4 columns"));
    }

    #[test]
    fn store_csv_parses_good_rows() {
        let csv = "Code,Name,Zone,Concept\ns1,Store one,north,\n";
        let rows = parse_store_csv(csv.as_bytes(), &zones(), &HashMap::new()).unwrap();
        assert_eq!(rows[0].code.as_str(), "S1");
        assert_eq!(rows[0].zone_id, 1);
    }

    #[test]
    fn wrong_header_and_empty_files_are_reported() {
        let e = parse_coded_name_csv(MasterUpload::Brands, b"name,code\nA,B\n").unwrap_err();
        assert!(e[0].message.contains("header must be `code,name`"));
        let e = parse_coded_name_csv(MasterUpload::Brands, b"").unwrap_err();
        assert!(e[0].message.contains("empty"));
        let e = parse_coded_name_csv(MasterUpload::Brands, b"code,name\n").unwrap_err();
        assert!(e[0].message.contains("no rows"));
    }

    #[test]
    fn scope_csv_resolves_codes_and_reports_unknown_ones() {
        use crate::domain::offer::ScopeKind;
        let codes = HashMap::from([
            ((ScopeKind::Store, "S1".to_string()), 7),
            ((ScopeKind::Zone, "NORTH".to_string()), 9),
        ]);
        let ok = parse_scope_csv(b"type,code\nstore,s1\nZONE,NORTH\nSTORE,S1\n", &codes).unwrap();
        assert_eq!(ok, vec![(ScopeKind::Store, 7), (ScopeKind::Zone, 9)]);
        let e = parse_scope_csv(b"type,code\nSHOP,S1\nTILL,T9\n", &codes).unwrap_err();
        assert_eq!(e.len(), 2);
        assert!(
            e[0].message
                .contains("type must be STORE, TILL, ZONE or CONCEPT")
        );
        assert_eq!(e[1].message, "no till with code T9");
    }

    #[test]
    fn audience_csv_normalises_and_reports_bad_lines() {
        let ok = parse_audience_csv(
            b"type,value\nmobile,+91 98765-43210\nEMAIL,Asha@Example.com\nEXTERNAL_ID,C-17\n",
        )
        .unwrap();
        assert_eq!(ok[0], (IdentifierType::Mobile, "+919876543210".to_string()));
        assert_eq!(
            ok[1],
            (IdentifierType::Email, "asha@example.com".to_string())
        );
        let e = parse_audience_csv(
            b"type,value\nMOBILE,12\nPHONE,9876543210\nEMAIL,a@b.co\nEMAIL,A@B.CO\n",
        )
        .unwrap_err();
        let lines: Vec<u64> = e.iter().map(|l| l.line).collect();
        assert_eq!(lines, vec![2, 3, 5]);
        assert!(e[0].message.contains("not a mobile number"));
        assert!(e[1].message.contains("MOBILE, EMAIL or EXTERNAL_ID"));
        assert!(e[2].message.contains("repeated (first on line 4)"));
    }

    #[test]
    fn consumers_need_dates_only_when_campaigns() {
        assert!(NewConsumer::parse("Diwali", "outbound", "2026-10-01", "2026-11-01").is_ok());
        let e = NewConsumer::parse("Diwali", "outbound", "2026-11-02", "2026-11-01").unwrap_err();
        assert_eq!(e.get("ends_on"), "must be on or after the start date");
        assert!(NewConsumer::parse("Diwali", "outbound", "", "").is_err());
        assert!(
            NewConsumer::parse("Club", "loyalty", "", "")
                .unwrap()
                .dates
                .is_none()
        );
        assert!(NewConsumer::parse("Club", "loyalty", "2026-01-01", "").is_err());
    }
}
