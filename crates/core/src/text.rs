//! Texts shown to people, in the two languages propusk speaks.

use serde::{Deserialize, Serialize};

/// A text in Russian and English: purpose and regime names, refusal messages, error messages
/// meant for residents.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Localized {
    /// Russian text.
    pub ru: String,
    /// English text.
    pub en: String,
}

impl Localized {
    /// Builds a text from its Russian and English versions.
    pub fn new(ru: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            ru: ru.into(),
            en: en.into(),
        }
    }
}

/// One of the two languages propusk speaks: Russian unless someone asks for English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Russian, the default.
    #[default]
    Ru,
    /// English.
    En,
}

impl Lang {
    /// `ru` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Ru => "ru",
            Self::En => "en",
        }
    }

    /// `ru`/`en` (any case, any suffix such as `en-GB`); anything else is None.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("ru") => Some(Self::Ru),
            Some("en") => Some(Self::En),
            _ => None,
        }
    }

    /// The text of `l` in this language.
    pub fn pick(self, l: &Localized) -> &str {
        self.tr(&l.ru, &l.en)
    }

    /// One of two literals.
    pub fn tr<'a>(self, ru: &'a str, en: &'a str) -> &'a str {
        match self {
            Self::Ru => ru,
            Self::En => en,
        }
    }
}

/// Picks the Russian plural form for `n`: `one` for 1, 21, 31…; `few` for 2–4, 22–24…;
/// `many` for 0, 5–20, 25–30…
pub fn ru_plural<'a>(n: u64, one: &'a str, few: &'a str, many: &'a str) -> &'a str {
    let (last, last_two) = (n % 10, n % 100);
    if (11..=14).contains(&last_two) {
        many
    } else if last == 1 {
        one
    } else if (2..=4).contains(&last) {
        few
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_plurals() {
        let f = |n| ru_plural(n, "день", "дня", "дней");
        assert_eq!(f(1), "день");
        assert_eq!(f(3), "дня");
        assert_eq!(f(7), "дней");
        assert_eq!(f(11), "дней");
        assert_eq!(f(21), "день");
        assert_eq!(f(24), "дня");
        assert_eq!(f(0), "дней");
    }
}
