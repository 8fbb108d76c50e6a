//! What an edit changes, in plain words: the new description of an offer with each line that
//! differs from the current description marked, the old wording beside it, and the lines that
//! are gone (the edit page's *Preview and update*).

use super::describe::Description;

/// How a line of the new description compares with the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Same,
    /// Reworded: `old` is what it said before.
    Changed,
    /// A line the offer did not have.
    Added,
    /// A line the offer had and will no longer have (`text` is the old wording).
    Removed,
}

/// One line of the preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub change: Change,
    pub text: String,
    /// The old wording of a changed line.
    pub old: Option<String>,
}

impl Line {
    fn new(change: Change, text: &str, old: Option<&str>) -> Line {
        Line {
            change,
            text: text.to_string(),
            old: old.map(str::to_string),
        }
    }

    /// "same", "changed", "added" or "removed" (a CSS class and a test hook).
    pub fn kind(&self) -> &'static str {
        match self.change {
            Change::Same => "same",
            Change::Changed => "changed",
            Change::Added => "added",
            Change::Removed => "removed",
        }
    }

    pub fn is_same(&self) -> bool {
        self.change == Change::Same
    }
}

/// A section of the preview, titled as in the description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionDiff {
    pub title: &'static str,
    pub lines: Vec<Line>,
}

impl SectionDiff {
    pub fn changed(&self) -> usize {
        self.lines.iter().filter(|l| !l.is_same()).count()
    }
}

/// The new description against the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptionDiff {
    pub headline: String,
    /// The current headline, when the new one differs.
    pub old_headline: Option<String>,
    pub sections: Vec<SectionDiff>,
}

impl DescriptionDiff {
    /// How many lines (headline included) differ.
    pub fn changed(&self) -> usize {
        usize::from(self.old_headline.is_some())
            + self
                .sections
                .iter()
                .map(SectionDiff::changed)
                .sum::<usize>()
    }

    pub fn is_unchanged(&self) -> bool {
        self.changed() == 0
    }
}

/// Compares two lists of lines: the lines both keep (the longest common subsequence) stay in
/// place; between two kept lines, old and new lines are paired up in order as changed, and
/// the rest are added (new) or removed (old). Lines come out in the new order, a removed line
/// where it stood.
pub fn diff_lines(old: &[String], new: &[String]) -> Vec<Line> {
    let (n, m) = (old.len(), new.len());
    // lcs[i][j]: length of the longest common subsequence of old[i..] and new[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = Vec::with_capacity(n.max(m));
    let (mut gone, mut came): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    let flush = |out: &mut Vec<Line>, gone: &mut Vec<&str>, came: &mut Vec<&str>| {
        let paired = gone.len().min(came.len());
        for k in 0..paired {
            out.push(Line::new(Change::Changed, came[k], Some(gone[k])));
        }
        for c in &came[paired..] {
            out.push(Line::new(Change::Added, c, None));
        }
        for g in &gone[paired..] {
            out.push(Line::new(Change::Removed, g, None));
        }
        gone.clear();
        came.clear();
    };
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            flush(&mut out, &mut gone, &mut came);
            out.push(Line::new(Change::Same, &new[j], None));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            came.push(&new[j]);
            j += 1;
        } else {
            gone.push(&old[i]);
            i += 1;
        }
    }
    flush(&mut out, &mut gone, &mut came);
    out
}

/// The new description section by section (sections matched by title), with what changed
/// against `old`; a section only the old description had is listed last, all removed.
pub fn diff_descriptions(old: &Description, new: &Description) -> DescriptionDiff {
    let none: Vec<String> = Vec::new();
    let old_lines = |title: &str| {
        old.sections
            .iter()
            .find(|(t, _)| *t == title)
            .map(|(_, l)| l)
            .unwrap_or(&none)
    };
    let mut sections: Vec<SectionDiff> = new
        .sections
        .iter()
        .map(|(title, lines)| SectionDiff {
            title,
            lines: diff_lines(old_lines(title), lines),
        })
        .collect();
    for (title, lines) in &old.sections {
        if !new.sections.iter().any(|(t, _)| t == title) {
            sections.push(SectionDiff {
                title,
                lines: diff_lines(lines, &[]),
            });
        }
    }
    DescriptionDiff {
        headline: new.headline.clone(),
        old_headline: (old.headline != new.headline).then(|| old.headline.clone()),
        sections,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn kinds(lines: &[Line]) -> Vec<(&'static str, &str, Option<&str>)> {
        lines
            .iter()
            .map(|l| (l.kind(), l.text.as_str(), l.old.as_deref()))
            .collect()
    }

    #[test]
    fn equal_lines_are_all_the_same() {
        let a = v(&["a", "b", "c"]);
        let d = diff_lines(&a, &a);
        assert!(d.iter().all(Line::is_same));
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn a_reworded_line_is_changed_with_its_old_wording_in_place() {
        let d = diff_lines(
            &v(&["Name: Welcome", "10% off", "Ends soon"]),
            &v(&["Name: Welcome", "15% off", "Ends soon"]),
        );
        assert_eq!(
            kinds(&d),
            vec![
                ("same", "Name: Welcome", None),
                ("changed", "15% off", Some("10% off")),
                ("same", "Ends soon", None),
            ]
        );
    }

    #[test]
    fn new_and_gone_lines_are_added_and_removed_where_they_stand() {
        let d = diff_lines(&v(&["a", "b", "c"]), &v(&["a", "c", "d"]));
        assert_eq!(
            kinds(&d),
            vec![
                ("same", "a", None),
                ("removed", "b", None),
                ("same", "c", None),
                ("added", "d", None),
            ]
        );
    }

    #[test]
    fn more_new_lines_than_old_in_a_gap_pair_first_then_add() {
        let d = diff_lines(&v(&["a", "x", "z"]), &v(&["a", "y1", "y2", "z"]));
        assert_eq!(
            kinds(&d),
            vec![
                ("same", "a", None),
                ("changed", "y1", Some("x")),
                ("added", "y2", None),
                ("same", "z", None),
            ]
        );
        let d = diff_lines(&v(&["x1", "x2"]), &v(&["y"]));
        assert_eq!(
            kinds(&d),
            vec![("changed", "y", Some("x1")), ("removed", "x2", None)]
        );
    }

    #[test]
    fn empty_sides() {
        assert!(diff_lines(&[], &[]).is_empty());
        assert_eq!(
            kinds(&diff_lines(&[], &v(&["a"]))),
            vec![("added", "a", None)]
        );
        assert_eq!(
            kinds(&diff_lines(&v(&["a"]), &[])),
            vec![("removed", "a", None)]
        );
    }

    fn desc(headline: &str, sections: Vec<(&'static str, &[&str])>) -> Description {
        Description {
            headline: headline.into(),
            sections: sections.into_iter().map(|(t, l)| (t, v(l))).collect(),
        }
    }

    #[test]
    fn descriptions_compare_section_by_section_and_count_changes() {
        let old = desc(
            "10% off at any store",
            vec![
                ("Offer", &["Name: A"]),
                ("Redemption", &["Redeemable at any store"]),
                ("Offer expiry reminder", &["Email Asha"]),
            ],
        );
        let new = desc(
            "15% off at store S1",
            vec![
                ("Offer", &["Name: A"]),
                ("Redemption", &["Redeemable at store S1", "Only Mon"]),
            ],
        );
        let d = diff_descriptions(&old, &new);
        assert_eq!(d.headline, "15% off at store S1");
        assert_eq!(d.old_headline.as_deref(), Some("10% off at any store"));
        let titles: Vec<_> = d.sections.iter().map(|s| s.title).collect();
        assert_eq!(titles, ["Offer", "Redemption", "Offer expiry reminder"]);
        assert_eq!(d.sections[0].changed(), 0);
        assert_eq!(
            kinds(&d.sections[1].lines),
            vec![
                (
                    "changed",
                    "Redeemable at store S1",
                    Some("Redeemable at any store")
                ),
                ("added", "Only Mon", None),
            ]
        );
        assert_eq!(
            kinds(&d.sections[2].lines),
            vec![("removed", "Email Asha", None)]
        );
        assert_eq!(d.changed(), 4);
        assert!(!d.is_unchanged());
        assert!(diff_descriptions(&old, &old).is_unchanged());
    }
}
