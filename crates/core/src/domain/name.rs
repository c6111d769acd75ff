//! Residents' full names.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Localized;

/// A person's full name as written in their document: "Иванов Иван Иванович", "Anna-Maria
/// O'Neil".
///
/// Trimmed, runs of whitespace collapsed to one space, 2–200 characters of Cyrillic or Latin
/// letters, spaces, hyphens and apostrophes, with at least one letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FullName(String);

/// What was wrong with a name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Fewer than 2 or more than 200 characters after trimming.
    #[error("{}", self.localized().en)]
    Length(usize),
    /// A character that is not a Cyrillic or Latin letter, space, hyphen or apostrophe.
    #[error("{}", self.localized().en)]
    InvalidCharacter(char),
    /// Only punctuation.
    #[error("{}", self.localized().en)]
    NoLetters,
}

impl NameError {
    /// The message in Russian and English, for residents.
    pub fn localized(&self) -> Localized {
        let ru = match self {
            Self::Length(n) => format!("В имени {n} символов; нужно от 2 до 200."),
            Self::InvalidCharacter(c) => format!(
                "Имя содержит символ «{c}»; допустимы русские и латинские буквы, пробелы, дефисы и апострофы."
            ),
            Self::NoLetters => {
                "В имени нет букв; укажите фамилию, имя и отчество, как в документе.".to_owned()
            }
        };
        let en = match self {
            Self::Length(n) => format!("The name has {n} characters; it must have 2 to 200."),
            Self::InvalidCharacter(c) => format!(
                "The name contains the character “{c}”; use Cyrillic or Latin letters, spaces, hyphens and apostrophes."
            ),
            Self::NoLetters => {
                "The name has no letters; give the full name as in the identity document.".to_owned()
            }
        };
        Localized::new(ru, en)
    }
}

fn is_name_letter(c: char) -> bool {
    c.is_alphabetic()
        && matches!(c,
            'A'..='Z' | 'a'..='z'
            | '\u{00C0}'..='\u{024F}'   // Latin-1 Supplement letters, Latin Extended-A and -B
            | '\u{1E00}'..='\u{1EFF}'   // Latin Extended Additional
            | '\u{0400}'..='\u{052F}') // Cyrillic and Cyrillic Supplement
}

impl FullName {
    /// Parses a full name.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let normalised = input.split_whitespace().collect::<Vec<_>>().join(" ");
        let len = normalised.chars().count();
        if !(2..=200).contains(&len) {
            return Err(NameError::Length(len));
        }
        if let Some(bad) = normalised
            .chars()
            .find(|c| !(is_name_letter(*c) || matches!(c, ' ' | '-' | '\'' | '’')))
        {
            return Err(NameError::InvalidCharacter(bad));
        }
        if !normalised.chars().any(is_name_letter) {
            return Err(NameError::NoLetters);
        }
        Ok(Self(normalised))
    }

    /// The name as normalised.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Initials of the surname and the given name, in Russian order "Surname Given Patronymic":
    /// "Иванов Иван Иванович" → "И.И.", "Smith John" → "S.J.". A one-word name gives one
    /// initial. The patronymic is left out on purpose: two initials and four document
    /// characters are enough for an inspector to match a person to a pass, and every further
    /// character is personal data inside a QR code anyone can read.
    pub fn initials(&self) -> String {
        self.0
            .split(' ')
            .filter_map(|word| word.chars().find(|c| is_name_letter(*c)))
            .take(2)
            .flat_map(|c| c.to_uppercase().chain(['.']))
            .collect()
    }
}

impl fmt::Display for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for FullName {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<FullName> for String {
    fn from(n: FullName) -> Self {
        n.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised() {
        let n = FullName::parse("  Иванов   Иван\tИванович ").unwrap();
        assert_eq!(n.as_str(), "Иванов Иван Иванович");
        assert_eq!(n.initials(), "И.И.");
        assert_eq!(
            FullName::parse("Салтыков-Щедрин михаил")
                .unwrap()
                .initials(),
            "С.М."
        );
        assert_eq!(
            FullName::parse("Anna-Maria O'Neil").unwrap().initials(),
            "A.O."
        );
        assert_eq!(FullName::parse("Ёлкин").unwrap().initials(), "Ё.");
        assert_eq!(
            FullName::parse("d'Artagnan Charles").unwrap().initials(),
            "D.C."
        );
        assert!(FullName::parse("Müller Jürgen").is_ok());
    }

    #[test]
    fn bad_names() {
        assert_eq!(FullName::parse(" И "), Err(NameError::Length(1)));
        assert_eq!(
            FullName::parse(&"а".repeat(201)),
            Err(NameError::Length(201))
        );
        assert_eq!(
            FullName::parse("Иванов 2"),
            Err(NameError::InvalidCharacter('2'))
        );
        assert_eq!(
            FullName::parse("王 小明"),
            Err(NameError::InvalidCharacter('王'))
        );
        assert_eq!(FullName::parse("- -"), Err(NameError::NoLetters));
        assert!(NameError::NoLetters.localized().ru.contains("нет букв"));
    }
}
