use propusk_core::Localized;

/// The language of a reply: Russian unless the sender wrote in English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    Ru,
    En,
}

impl Lang {
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
        match self {
            Self::Ru => &l.ru,
            Self::En => &l.en,
        }
    }

    /// One of two literals.
    pub(crate) fn tr<'a>(self, ru: &'a str, en: &'a str) -> &'a str {
        match self {
            Self::Ru => ru,
            Self::En => en,
        }
    }
}
