//! Errors in regime files, each with the place it was found.

use std::fmt;
use std::ops::Range;

/// One problem in a regime file: where it is, what kind it is, and a message saying what was
/// found and what is expected.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicyError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What kind of problem.
    pub kind: PolicyErrorKind,
    /// What was wrong and what is expected.
    pub message: String,
}

/// The kinds of problem a regime file can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyErrorKind {
    /// The text is not valid TOML.
    Syntax,
    /// A required key is absent.
    MissingKey,
    /// A key the schema does not know (often a typo).
    UnknownKey,
    /// A value of the wrong TOML type.
    WrongType,
    /// A value of the right type that is out of range or malformed.
    InvalidValue,
    /// A time zone name the time zone database does not know.
    UnknownTimeZone,
    /// A `required_fields` entry that names no known field.
    UnknownRequiredField,
    /// A purpose id used twice.
    DuplicatePurposeId,
    /// An SMS code used twice.
    DuplicateSmsCode,
    /// The same entry twice in a list.
    DuplicateEntry,
    /// `until` is not later than `effective_from`.
    EndsBeforeStart,
    /// Keys that contradict each other (a quota on an always-allowed purpose, both
    /// `max_minutes` and `until_end_of_day`).
    Conflict,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for PolicyError {}

/// Turns byte offsets into lines and columns.
pub(crate) struct LineIndex<'s> {
    text: &'s str,
    line_starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    pub(crate) fn new(text: &'s str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { text, line_starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|start| *start <= offset);
        let start = self.line_starts[line - 1];
        (line, self.text[start..offset].chars().count() + 1)
    }

    pub(crate) fn error(
        &self,
        span: Range<usize>,
        kind: PolicyErrorKind,
        message: String,
    ) -> PolicyError {
        let (line, column) = self.position(span.start);
        PolicyError {
            line,
            column,
            kind,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let index = LineIndex::new("ab\nйцу\n\nx");
        assert_eq!(index.position(0), (1, 1));
        assert_eq!(index.position(2), (1, 3));
        assert_eq!(index.position(3), (2, 1));
        assert_eq!(index.position(5), (2, 2), "after one two-byte character");
        assert_eq!(index.position(10), (3, 1));
        assert_eq!(index.position(11), (4, 1));
        assert_eq!(index.position(99), (4, 2));
    }
}
