//! Pure domain types and rules: no I/O. Values of these types are valid by construction.

pub mod api_key;
pub mod claim;
pub mod code_permutation;
pub mod contacts;
pub mod coupon;
pub mod csv_lines;
pub mod csv_safe;
pub mod delivery;
pub mod ids;
pub mod issue;
pub mod job;
pub mod masters;
pub mod message;
pub mod money;
pub mod offer;
pub mod org;
pub mod otp;
pub mod products;
pub mod promotion;
pub mod redeem;
pub mod redemption;
pub mod referral;
pub mod reminder;
pub mod revoke;
pub mod sharing;
pub mod tracker;
pub mod user;
pub mod wallet;

use std::fmt;

/// A field-level validation error: which field, and a message a user understands. A form's
/// fields are named by their input names (`&'static str`); the offer's by `OfferField`, which
/// knows both its form name and its API name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError<K = &'static str> {
    pub field: K,
    pub message: String,
}

impl<K> FieldError<K> {
    pub fn new(field: K, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl<K: fmt::Display> fmt::Display for FieldError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // "name is required": field errors read as one phrase.
        write!(f, "{} {}", self.field, self.message)
    }
}

/// All the field errors of one form or payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldErrors<K = &'static str>(pub Vec<FieldError<K>>);

impl<K> Default for FieldErrors<K> {
    fn default() -> Self {
        FieldErrors(Vec::new())
    }
}

impl<K> FieldErrors<K> {
    pub fn push(&mut self, field: K, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Collects the error of a parse into `self`, returning the value when it parsed.
    pub fn take<T>(&mut self, result: Result<T, FieldError<K>>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub fn into_result(self) -> Result<(), FieldErrors<K>> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }

    /// The same errors under other names for their fields.
    pub fn renamed<L>(self, name: impl Fn(K) -> L) -> FieldErrors<L> {
        FieldErrors(
            self.0
                .into_iter()
                .map(|e| FieldError::new(name(e.field), e.message))
                .collect(),
        )
    }
}

impl FieldErrors {
    /// The message for a field, or "" (templates print it unconditionally).
    pub fn get(&self, field: &str) -> &str {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
            .unwrap_or("")
    }
}

impl<K: fmt::Display> fmt::Display for FieldErrors<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| e.to_string()).collect();
        f.write_str(&parts.join("; "))
    }
}

impl<K: fmt::Display + fmt::Debug> std::error::Error for FieldErrors<K> {}

/// Trims and checks a free-text name: required, at most `max` characters, no control characters.
pub fn parse_name<K>(field: K, raw: &str, max: usize) -> Result<String, FieldError<K>> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if s.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if s.chars().any(|c| c.is_control()) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(s.to_string())
}

/// Whether `s` holds a control character other than tab, line feed and carriage return (which
/// multi-line texts may carry). NUL is one: PostgreSQL cannot store it and SQLite cuts at it,
/// so such text is refused at the edge, the same on both databases.
pub fn has_control(s: &str) -> bool {
    s.chars().any(is_control_char)
}

/// A control character other than tab, line feed and carriage return.
pub fn is_control_char(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// The first name or value of a url-encoded string that holds a control character: its name.
pub fn control_in_urlencoded(raw: &[u8]) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(raw).unwrap_or_default();
    pairs
        .into_iter()
        .find(|(k, v)| has_control(k) || has_control(v))
        .map(|(k, _)| k.chars().filter(|c| !c.is_control()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("name", "  Nike  ", 10).unwrap(), "Nike");
        assert!(parse_name("name", "   ", 10).is_err());
        assert!(parse_name("name", "abcdefghijk", 10).is_err());
        assert!(parse_name("name", "a\u{7}b", 10).is_err());
    }
}
