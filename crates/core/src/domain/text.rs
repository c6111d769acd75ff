//! Free text people type: addresses, reasons, an officer's note, a patient's statement.
//!
//! Every such field has a maximum length, and none may hold a control character. NUL in
//! particular: PostgreSQL refuses it in text (a 500 where a 422 belongs) while SQLite stores
//! it silently, so the two backends would disagree about the same input. Refusing it here,
//! before the store, makes them agree. A [`Paragraph`] may hold line breaks and tabs; a
//! [`Line`] may not.

use std::fmt;

use crate::Localized;

/// Why a typed text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("is empty")]
    Empty,
    #[error("is {len} characters long; at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error("contains a control character (U+{code:04X}) at character {position}")]
    Control { code: u32, position: usize },
}

impl TextError {
    pub fn localized(&self) -> Localized {
        let ru = match self {
            Self::Empty => "Поле не заполнено.".to_owned(),
            Self::TooLong { len, max } => {
                format!("Слишком длинный текст: {len} знаков, допускается не больше {max}.")
            }
            Self::Control { position, .. } => format!(
                "В тексте есть управляющий символ (знак {position}): уберите его и введите текст заново."
            ),
        };
        let en = match self {
            Self::Empty => "The field is empty.".to_owned(),
            Self::TooLong { len, max } => {
                format!("The text is too long: {len} characters, at most {max} are allowed.")
            }
            Self::Control { position, .. } => format!(
                "The text contains a control character (character {position}): remove it and type the text again."
            ),
        };
        Localized::new(ru, en)
    }
}

/// The first control character in `s` that a text of this kind may not hold, with its
/// 1-based position in characters.
pub fn first_control(s: &str, multiline: bool) -> Option<(usize, char)> {
    s.chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
        .map(|(i, c)| (i + 1, c))
}

fn check(s: &str, max: usize, multiline: bool) -> Result<String, TextError> {
    let trimmed = s.trim();
    if let Some((position, c)) = first_control(trimmed, multiline) {
        return Err(TextError::Control {
            code: u32::from(c),
            position,
        });
    }
    let len = trimmed.chars().count();
    if len > max {
        return Err(TextError::TooLong { len, max });
    }
    Ok(trimmed.to_string())
}

/// One line of text, trimmed, at most `max` characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line(String);

impl Line {
    /// A line that may be empty (an optional reason).
    pub fn parse(s: &str, max: usize) -> Result<Self, TextError> {
        check(s, max, false).map(Self)
    }

    /// A line that must say something.
    pub fn required(s: &str, max: usize) -> Result<Self, TextError> {
        let line = Self::parse(s, max)?;
        if line.0.is_empty() {
            return Err(TextError::Empty);
        }
        Ok(line)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Text of several lines (a statement, a note), trimmed, at most `max` characters; line
/// breaks and tabs allowed, other control characters not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph(String);

impl Paragraph {
    pub fn parse(s: &str, max: usize) -> Result<Self, TextError> {
        check(s, max, true).map(Self)
    }

    pub fn required(s: &str, max: usize) -> Result<Self, TextError> {
        let text = Self::parse(s, max)?;
        if text.0.is_empty() {
            return Err(TextError::Empty);
        }
        Ok(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Paragraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_other_controls_are_refused_with_their_place() {
        assert_eq!(
            Line::parse("ab\0c", 10),
            Err(TextError::Control {
                code: 0,
                position: 3
            })
        );
        assert!(Line::parse("a\u{1b}[31m", 10).is_err());
        assert!(Paragraph::parse("a\u{7f}", 10).is_err());
    }

    #[test]
    fn lines_may_not_break_paragraphs_may() {
        assert!(Line::parse("two\nlines", 20).is_err());
        assert_eq!(
            Paragraph::parse(" two\r\nlines\tand a tab ", 30)
                .unwrap()
                .as_str(),
            "two\r\nlines\tand a tab"
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(Line::parse(&"ж".repeat(300), 300).is_ok());
        assert_eq!(
            Line::parse(&"ж".repeat(301), 300),
            Err(TextError::TooLong { len: 301, max: 300 })
        );
    }

    #[test]
    fn required_text_must_say_something() {
        assert_eq!(Line::required("   ", 10), Err(TextError::Empty));
        assert_eq!(Paragraph::required("", 10), Err(TextError::Empty));
        assert_eq!(Line::parse("  ", 10).unwrap().as_str(), "");
    }
}
