//! Money in integer minor units and percentages in basis points.

use super::FieldError;

/// Parses a decimal amount typed by a person ("500", "1,500.50") into minor units of a
/// currency with `digits` minor digits. Zero and negative amounts are refused.
pub fn parse_amount<K: Copy>(field: K, raw: &str, digits: u32) -> Result<i64, FieldError<K>> {
    let s: String = raw
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != ' ')
        .collect();
    if s.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    let bad = || FieldError::new(field, "must be an amount such as 500 or 499.50");
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    if frac.len() as u32 > digits {
        return Err(FieldError::new(
            field,
            if digits == 0 {
                "must be a whole amount in this currency".to_string()
            } else {
                format!("can have at most {digits} decimals in this currency")
            },
        ));
    }
    let scale = 10i64.pow(digits);
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac_val: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<width$}", width = digits as usize)
            .parse()
            .map_err(|_| bad())?
    };
    let minor = whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_val))
        .filter(|v| *v <= 1_000_000_000_000_000)
        .ok_or_else(|| FieldError::new(field, "is too large"))?;
    if minor <= 0 {
        return Err(FieldError::new(field, "must be more than zero"));
    }
    Ok(minor)
}

/// Parses a percentage with up to two decimals into basis points: "15" → 1500; 0 < p ≤ 100.
pub fn parse_percent<K: Copy>(field: K, raw: &str) -> Result<i64, FieldError<K>> {
    let bp = parse_amount(field, raw.trim().trim_end_matches('%'), 2).map_err(|e| {
        if e.message.contains("decimals") {
            FieldError::new(field, "can have at most 2 decimals")
        } else {
            FieldError::new(field, "must be a percentage more than 0 and at most 100")
        }
    })?;
    if bp > 10_000 {
        return Err(FieldError::new(
            field,
            "must be a percentage more than 0 and at most 100",
        ));
    }
    Ok(bp)
}

fn symbol(currency: &str) -> Option<&'static str> {
    Some(match currency {
        "INR" => "₹",
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        _ => return None,
    })
}

fn group_thousands(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Formats minor units for people: `₹1,500`, `₹499.50`, `AED 20`.
pub fn format_amount(minor: i64, currency: &str, digits: u32) -> String {
    let scale = 10i64.pow(digits);
    let (whole, frac) = (minor / scale, minor % scale);
    let number = if frac == 0 {
        group_thousands(whole)
    } else {
        format!(
            "{}.{:0width$}",
            group_thousands(whole),
            frac,
            width = digits as usize
        )
    };
    match symbol(currency) {
        Some(sym) => format!("{sym}{number}"),
        None => format!("{currency} {number}"),
    }
}

/// Formats the amount as the form field shows it (no symbol, no grouping): `499.50`.
pub fn amount_input(minor: i64, digits: u32) -> String {
    let scale = 10i64.pow(digits);
    if minor % scale == 0 {
        (minor / scale).to_string()
    } else {
        format!(
            "{}.{:0width$}",
            minor / scale,
            minor % scale,
            width = digits as usize
        )
    }
}

/// Formats basis points as a percentage: 1500 → `15%`, 1250 → `12.5%`.
pub fn format_percent(bp: i64) -> String {
    if bp % 100 == 0 {
        format!("{}%", bp / 100)
    } else {
        format!(
            "{}%",
            (format!("{}.{:02}", bp / 100, bp % 100)).trim_end_matches('0')
        )
    }
}

/// Formats a count with thousands separators: 1000 → `1,000`.
pub fn format_count(n: i64) -> String {
    group_thousands(n)
}

/// A count with its noun: "1 day", "2,000 days".
pub fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", format_count(n), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_into_minor_units() {
        assert_eq!(parse_amount("a", "500", 2).unwrap(), 50_000);
        assert_eq!(parse_amount("a", "1,499.5", 2).unwrap(), 149_950);
        assert_eq!(parse_amount("a", "20", 0).unwrap(), 20);
        assert!(
            parse_amount("a", "1.005", 2)
                .unwrap_err()
                .message
                .contains("at most 2 decimals")
        );
        assert!(parse_amount("a", "0", 2).is_err());
        assert!(parse_amount("a", "-5", 2).is_err());
        assert!(parse_amount("a", "abc", 2).is_err());
        assert!(
            parse_amount("a", "1.5", 0)
                .unwrap_err()
                .message
                .contains("whole amount")
        );
    }

    #[test]
    fn percentages_are_basis_points_within_0_and_100() {
        assert_eq!(parse_percent("p", "15").unwrap(), 1500);
        assert_eq!(parse_percent("p", "12.5%").unwrap(), 1250);
        assert_eq!(parse_percent("p", "100").unwrap(), 10_000);
        assert!(parse_percent("p", "0").is_err());
        assert!(parse_percent("p", "100.01").is_err());
        assert!(parse_percent("p", "12.345").is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(format_amount(50_000, "INR", 2), "₹500");
        assert_eq!(format_amount(149_950, "INR", 2), "₹1,499.50");
        assert_eq!(format_amount(2_000, "AED", 2), "AED 20");
        assert_eq!(format_percent(1500), "15%");
        assert_eq!(format_percent(1250), "12.5%");
        assert_eq!(format_count(1_000_000), "1,000,000");
        assert_eq!(amount_input(149_950, 2), "1499.50");
    }
}
