//! What an API key's form takes: a name and a rate limit (ORG-7). Used by the console's form
//! and by `offerdesk create-api-key`.

use super::{FieldError, parse_name};

/// The longest key name.
pub const MAX_NAME_LEN: usize = 100;
/// The highest rate limit a key may have, in requests per second.
pub const MAX_RATE_LIMIT: u32 = 100_000;

/// Parses a key's name: required, at most 100 characters.
pub fn parse_key_name(field: &'static str, raw: &str) -> Result<String, FieldError> {
    parse_name(field, raw, MAX_NAME_LEN)
}

/// Parses a rate limit: a whole number of requests per second, 1–100,000.
pub fn parse_rate_limit(field: &'static str, raw: &str) -> Result<u32, FieldError> {
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_RATE_LIMIT).contains(n))
        .ok_or_else(|| {
            FieldError::new(
                field,
                format!("must be a whole number from 1 to {MAX_RATE_LIMIT}"),
            )
        })
}
