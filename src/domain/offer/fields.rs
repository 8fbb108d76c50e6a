//! Field parsers of the offer: whole numbers in a range, amounts, percentages, optional
//! fields, ids of the org's records, dates, codes, time slots and message texts with their
//! placeholders. Each error names its field. Numbers and ids come as `Given`/`Ids`: typed by a
//! person in the wizard, or typed values from the API.

use super::input::{Given, Ids, OfferField};
use super::*;
use crate::domain::money::{parse_amount, parse_percent};
use crate::domain::{FieldError, parse_name};
use std::collections::HashSet;

type Checked<T> = Result<T, FieldError<OfferField>>;

/// A whole number from `min` to `max`.
pub fn whole(field: OfferField, given: Given, min: u64, max: u64) -> Checked<u64> {
    match given {
        Given::Text(raw) => count(field, raw, min, max),
        Given::Whole(n) => count(field, &n.to_string(), min, max),
        Given::Real(_) => Err(FieldError::new(field, "must be a whole number")),
        Given::Absent => Err(FieldError::new(field, "is required")),
    }
}

/// An amount: typed with the currency's decimals, or a whole number of minor units.
pub fn amount(field: OfferField, given: Given, digits: u32) -> Checked<i64> {
    match given {
        Given::Text(raw) => parse_amount(field, raw, digits),
        Given::Whole(n) if n <= 0 => Err(FieldError::new(field, "must be more than zero")),
        Given::Whole(n) if n > 1_000_000_000_000_000 => Err(FieldError::new(field, "is too large")),
        Given::Whole(n) => Ok(n),
        Given::Real(_) => Err(FieldError::new(
            field,
            "must be a whole number of minor units (20000 = 200.00)",
        )),
        Given::Absent => Err(FieldError::new(field, "is required")),
    }
}

/// A percentage with at most two decimals, in basis points (0 < p ≤ 100).
pub fn percent(field: OfferField, given: Given) -> Checked<i64> {
    match given {
        Given::Text(raw) => parse_percent(field, raw),
        Given::Whole(n) => parse_percent(field, &n.to_string()),
        Given::Real(x) => parse_percent(field, &x.to_string()),
        Given::Absent => Err(FieldError::new(field, "is required")),
    }
}

/// An optional value: absent is `None`.
pub fn optional_given<'a, T>(
    given: Given<'a>,
    parse: impl FnOnce(Given<'a>) -> Checked<T>,
) -> Checked<Option<T>> {
    match given {
        Given::Absent => Ok(None),
        g => parse(g).map(Some),
    }
}

pub fn count<K: Copy>(field: K, raw: &str, min: u64, max: u64) -> Result<u64, FieldError<K>> {
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

pub fn optional<T, K>(
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, FieldError<K>>,
) -> Result<Option<T>, FieldError<K>> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        parse(raw).map(Some)
    }
}

pub fn ids(field: OfferField, given: Ids, allowed: &HashSet<i64>, what: &str) -> Checked<Vec<i64>> {
    let posted: Vec<Option<i64>> = match given {
        Ids::Posted(raw) => raw
            .iter()
            .filter(|r| !r.trim().is_empty())
            .map(|r| r.trim().parse::<i64>().ok())
            .collect(),
        Ids::Resolved(ids) => ids.iter().copied().map(Some).collect(),
    };
    let mut out = Vec::new();
    for id in posted {
        match id {
            Some(id) if allowed.contains(&id) => {
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

pub fn date<K: Copy>(field: K, raw: &str) -> Result<NaiveDate, FieldError<K>> {
    if raw.trim().is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "must be a date (YYYY-MM-DD)"))
}

/// A code typed by a person: trimmed, upper-cased (COD-5), letters, digits, `-` and `_`.
pub fn code<K: Copy>(field: K, raw: &str, min: usize, max: usize) -> Result<String, FieldError<K>> {
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
pub fn parse_time_slots<K: Copy>(field: K, raw: &str) -> Result<Vec<TimeSlot>, FieldError<K>> {
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

pub fn check_text<K: Copy>(field: K, raw: &str, max: usize) -> Result<String, FieldError<K>> {
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
