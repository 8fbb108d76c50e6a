//! Spreadsheet-safe CSV cells. A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
//! return is a formula to Excel, LibreOffice and Google Sheets (`=HYPERLINK(…)` in an
//! external id would run when the export is opened). Every CSV the product writes puts a `'`
//! in front of such a cell, as OWASP advises; every CSV it reads takes that `'` off again, so
//! an exported file uploads back unchanged.

use std::borrow::Cow;

fn is_trigger(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// Whether the cell is quotes (none or more) and then a formula trigger: a formula, or a
/// formula that has been quoted.
fn formula_like(cell: &str) -> bool {
    cell.trim_start_matches('\'')
        .chars()
        .next()
        .is_some_and(is_trigger)
}

/// The cell as written: `'` in front of a cell a spreadsheet would run (and of one that
/// already looks quoted, so reading gives back exactly what was written).
pub fn write_cell(cell: &str) -> Cow<'_, str> {
    if formula_like(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The cell as read: the `'` that `write_cell` put in front taken off again.
pub fn read_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => cell,
    }
}

/// Writes one record with every cell made safe.
pub fn write_record<W: std::io::Write>(w: &mut csv::Writer<W>, cells: &[&str]) -> csv::Result<()> {
    w.write_record(cells.iter().map(|c| write_cell(c).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_read_back() {
        for (raw, written) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+1+2", "'+1+2"),
            ("-ABC", "'-ABC"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("ABC-1", "ABC-1"),
            ("", ""),
            ("'quoted", "'quoted"),
            ("'=already", "''=already"),
        ] {
            assert_eq!(write_cell(raw), written, "{raw:?}");
            assert_eq!(read_cell(&write_cell(raw)), raw, "round trip of {raw:?}");
        }
        // A leading quote before an ordinary character is the cell's own.
        assert_eq!(read_cell("'quoted"), "'quoted");
    }
}
