//! Field parsers of the offer form: whole numbers in a range, optional fields, ids of the
//! org's records, dates, codes, time slots and message texts with their placeholders. Each
//! error names its field.

use super::*;
use crate::domain::{FieldError, parse_name};
use std::collections::HashSet;

pub fn count(field: &'static str, raw: &str, min: u64, max: u64) -> Result<u64, FieldError> {
    let s = raw.trim().replace(',', "");
    let n: u64 = s
        .parse()
        .map_err(|_| FieldError::new(field, "must be a whole number"))?;
    if n < min || n > max {
        return Err(FieldError::new(
            field,
            format!(
                "must be between {min} and {}",
                crate::domain::money::format_count(max as i64)
            ),
        ));
    }
    Ok(n)
}

pub fn optional<T>(
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Result<Option<T>, FieldError> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        parse(raw).map(Some)
    }
}

pub fn ids(
    field: &'static str,
    raw: &[String],
    allowed: &HashSet<i64>,
    what: &str,
) -> Result<Vec<i64>, FieldError> {
    let mut out = Vec::new();
    for r in raw.iter().filter(|r| !r.trim().is_empty()) {
        match r.trim().parse::<i64>() {
            Ok(id) if allowed.contains(&id) => {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            _ => {
                return Err(FieldError::new(
                    field,
                    format!("includes a {what} that is not in this organisation"),
                ));
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

pub fn date(field: &'static str, raw: &str) -> Result<NaiveDate, FieldError> {
    if raw.trim().is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "must be a date (YYYY-MM-DD)"))
}

/// A code typed by a person: trimmed, upper-cased (COD-5), letters, digits, `-` and `_`.
pub fn code(field: &'static str, raw: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let s = raw.trim().to_ascii_uppercase();
    if s.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if s.len() < min || s.len() > max {
        return Err(FieldError::new(
            field,
            format!("must be {min} to {max} characters"),
        ));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(FieldError::new(
            field,
            "may contain only letters, digits, '-' and '_'",
        ));
    }
    Ok(s)
}

fn time_of_day(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && h.to_string().len() <= 2 && m.to_string().len() <= 2).then_some(h * 60 + m)
}

/// Parses "16:00-18:00, 22:00-02:00" into time slots; a slot may cross midnight.
pub fn parse_time_slots(field: &'static str, raw: &str) -> Result<Vec<TimeSlot>, FieldError> {
    let mut out = Vec::new();
    for part in raw
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let bad = || {
            FieldError::new(
                field,
                format!("`{part}` must look like 16:00-18:00 (24-hour clock)"),
            )
        };
        let (a, b) = part.split_once('-').ok_or_else(bad)?;
        let (start, end) = (
            time_of_day(a).ok_or_else(bad)?,
            time_of_day(b).ok_or_else(bad)?,
        );
        if start == end {
            return Err(FieldError::new(
                field,
                format!("`{part}` starts and ends at the same time"),
            ));
        }
        out.push(TimeSlot { start, end });
    }
    Ok(out)
}

pub fn check_text(field: &'static str, raw: &str, max: usize) -> Result<String, FieldError> {
    let text = parse_name(field, raw, max)?;
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| FieldError::new(field, "has a `{` without a closing `}`"))?;
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(FieldError::new(
                field,
                format!(
                    "uses unknown placeholder {{{name}}}; use {{first_name}}, {{code}}, {{expiry}} or {{discount}}"
                ),
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(text)
}
