//! Reading uploaded CSV files line by line: a byte stream split into numbered lines (files of
//! millions of lines are never held whole), the header checked, every bad line reported with
//! its number, spreadsheet quoting taken off and control characters refused.

/// A problem on one line of an uploaded CSV file (line 1 is the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

/// Reads a CSV file with the expected header, calling `row` for each data line with its line
/// number and fields; collects every problem instead of stopping at the first.
pub(crate) fn read_csv(
    bytes: &[u8],
    header: &[&str],
    mut row: impl FnMut(u64, &[&str]) -> Result<(), String>,
) -> Vec<LineError> {
    // Line by line, so that every reported line number is the one an editor shows and blank
    // lines are reported rather than skipped (a field may not span lines in these files).
    let mut csv = CsvLines::new(header);
    let mut lines = LineSplitter::default();
    lines.feed(bytes, |n, line| csv.line(n, line, &mut row));
    lines.finish(|n, line| csv.line(n, line, &mut row));
    csv.finish()
}

/// Splits a byte stream fed in chunks into numbered lines (`\n` or `\r\n`), so that a file of
/// millions of lines is read without holding it whole. A line that is not UTF-8 is passed as
/// `Err(())`.
#[derive(Debug, Default)]
pub struct LineSplitter {
    carry: Vec<u8>,
    line: u64,
}

impl LineSplitter {
    pub fn feed(&mut self, mut chunk: &[u8], mut f: impl FnMut(u64, Result<&str, ()>)) {
        while let Some(pos) = chunk.iter().position(|b| *b == b'\n') {
            let (head, rest) = chunk.split_at(pos);
            chunk = &rest[1..];
            self.line += 1;
            if self.carry.is_empty() {
                f(self.line, decode_line(head, self.line));
            } else {
                self.carry.extend_from_slice(head);
                let whole = std::mem::take(&mut self.carry);
                f(self.line, decode_line(&whole, self.line));
            }
        }
        self.carry.extend_from_slice(chunk);
    }

    /// Passes the last line when the stream does not end with a newline.
    pub fn finish(mut self, mut f: impl FnMut(u64, Result<&str, ()>)) {
        if !self.carry.is_empty() {
            self.line += 1;
            let whole = std::mem::take(&mut self.carry);
            f(self.line, decode_line(&whole, self.line));
        }
    }

    /// Lines passed so far.
    pub fn lines(&self) -> u64 {
        self.line
    }
}

fn decode_line(bytes: &[u8], line: u64) -> Result<&str, ()> {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    let bytes = if line == 1 {
        bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes)
    } else {
        bytes
    };
    std::str::from_utf8(bytes).map_err(|_| ())
}

/// Checks a CSV file line by line: the header first, then each data line's columns, collecting
/// every problem with its line number (at most `MAX_LINE_ERRORS` kept; all counted).
#[derive(Debug)]
pub struct CsvLines {
    header: Vec<String>,
    /// Columns a file may add after the header's (e.g. `first_name`); chosen by its header.
    optional: Vec<String>,
    saw_header: bool,
    saw_rows: bool,
    header_bad: bool,
    errors: Vec<LineError>,
    error_count: u64,
}

/// Line errors kept for a report; more are counted.
pub const MAX_LINE_ERRORS: usize = 10_000;

impl CsvLines {
    pub fn new(header: &[&str]) -> CsvLines {
        CsvLines {
            header: header.iter().map(|h| h.to_string()).collect(),
            optional: Vec::new(),
            saw_header: false,
            saw_rows: false,
            header_bad: false,
            errors: Vec::new(),
            error_count: 0,
        }
    }

    /// A file whose header is `header`, optionally followed by the `optional` columns.
    pub fn with_optional(header: &[&str], optional: &[&str]) -> CsvLines {
        CsvLines {
            optional: optional.iter().map(|h| h.to_string()).collect(),
            ..CsvLines::new(header)
        }
    }

    pub fn error(&mut self, line: u64, message: impl Into<String>) {
        self.error_count += 1;
        if self.errors.len() < MAX_LINE_ERRORS {
            self.errors.push(LineError {
                line,
                message: message.into(),
            });
        }
    }

    pub fn has_errors(&self) -> bool {
        self.error_count > 0
    }

    /// All problems found, including those not kept.
    pub fn error_count(&self) -> u64 {
        self.error_count
    }

    /// Checks one line and passes a data line's fields to `row`.
    pub fn line(
        &mut self,
        line: u64,
        raw: Result<&str, ()>,
        row: &mut impl FnMut(u64, &[&str]) -> Result<(), String>,
    ) {
        if self.header_bad {
            return;
        }
        let Ok(raw) = raw else {
            self.error(
                line,
                "the line is not UTF-8 text; save the file as CSV UTF-8",
            );
            return;
        };
        let record = if raw.trim().is_empty() {
            Ok(csv::StringRecord::new())
        } else if !raw.contains('"') {
            // Without quotes a line is its commas; building a CSV reader per line would cost
            // more than the rest of a million-line upload.
            Ok(raw.split(',').map(str::trim).collect::<csv::StringRecord>())
        } else {
            csv::ReaderBuilder::new()
                .has_headers(false)
                .trim(csv::Trim::All)
                .from_reader(raw.as_bytes())
                .records()
                .next()
                .unwrap_or_else(|| Ok(csv::StringRecord::new()))
        };
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                self.error(line, format!("not valid CSV ({e})"));
                return;
            }
        };
        // A cell an export made spreadsheet-safe (`'=…`) reads back as it was.
        let fields: Vec<&str> = record.iter().map(super::csv_safe::read_cell).collect();
        if fields.iter().any(|f| super::has_control(f)) {
            self.error(
                line,
                "the line contains a control character (such as NUL); remove it",
            );
            return;
        }
        if !self.saw_header {
            self.saw_header = true;
            let got: Vec<String> = fields.iter().map(|f| f.to_ascii_lowercase()).collect();
            let mut full = self.header.clone();
            full.extend(self.optional.iter().cloned());
            if !self.optional.is_empty() && got == full {
                self.header = full;
            } else if got != self.header {
                self.header_bad = true;
                let expected = if self.optional.is_empty() {
                    format!("`{}`", self.header.join(","))
                } else {
                    format!("`{}` or `{}`", self.header.join(","), full.join(","))
                };
                self.error(line, format!("the header must be {expected}"));
            }
            return;
        }
        if fields.iter().all(|f| f.is_empty()) {
            self.error(line, "blank line");
            return;
        }
        self.saw_rows = true;
        if fields.len() != self.header.len() {
            let message = format!(
                "expected {} columns ({}), found {}",
                self.header.len(),
                self.header.join(","),
                fields.len()
            );
            self.error(line, message);
            return;
        }
        if let Err(message) = row(line, &fields) {
            self.error(line, message);
        }
    }

    /// The problems found, including an empty file or one without rows.
    pub fn finish(mut self) -> Vec<LineError> {
        if !self.saw_header {
            let message = format!(
                "the file is empty; the header must be `{}`",
                self.header.join(",")
            );
            self.error(1, message);
        } else if !self.saw_rows && self.errors.is_empty() {
            self.error(2, "the file has a header but no rows");
        }
        self.errors
    }
}
