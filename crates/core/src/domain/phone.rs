//! Phone numbers, the residents' sign-in identity and the SMS channel's address.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Localized;

/// A phone number in E.164 form (`+` and 8–15 digits).
///
/// Russian numbers are accepted in the forms people write them — `8 (916) 123-45-67`,
/// `+7 916 1234567`, `79161234567`, `916 123 45 67` — and normalised to `+79161234567`.
/// A number written without `+` is taken to be Russian and must be a mobile one (the national
/// part starts with 9): propusk talks to residents by SMS, and a landline cannot receive one.
/// Any other number must be written in international form with a leading `+`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

/// What was wrong with a phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing but whitespace was given.
    #[error("{}", self.localized().en)]
    Empty,
    /// A character other than digits, a leading `+`, spaces, dashes, dots and parentheses.
    #[error("{}", self.localized().en)]
    InvalidCharacter(char),
    /// An international number with too few or too many digits.
    #[error("{}", self.localized().en)]
    InternationalLength(usize),
    /// A `+7` number without exactly ten digits after the 7.
    #[error("{}", self.localized().en)]
    RussianLength(usize),
    /// Digits without a `+` that do not form a Russian number.
    #[error("{}", self.localized().en)]
    Unrecognised(usize),
    /// A Russian number written without `+` whose national part does not start with 9.
    #[error("{}", self.localized().en)]
    NotMobile,
}

impl PhoneError {
    /// The message in Russian and English, for residents.
    pub fn localized(&self) -> Localized {
        let ru = match self {
            Self::Empty => "Номер телефона не указан; нужен номер мобильного телефона, например +7 916 123-45-67.".to_owned(),
            Self::InvalidCharacter(c) => format!(
                "Номер телефона содержит символ «{c}»; допустимы цифры, «+» в начале, пробелы, дефисы и скобки."
            ),
            Self::InternationalLength(n) => format!(
                "В международном номере {n} цифр; нужен «+» и от 8 до 15 цифр."
            ),
            Self::RussianLength(n) => format!(
                "После +7 должно быть ровно 10 цифр, указано {n}."
            ),
            Self::Unrecognised(n) => format!(
                "Номер из {n} цифр без «+» не распознан; нужен номер мобильного телефона, например 8 916 123-45-67, или международный номер, начинающийся с «+»."
            ),
            Self::NotMobile => "Это не номер мобильного телефона (после 8 или 7 должна идти цифра 9); нужен мобильный номер, например 8 916 123-45-67.".to_owned(),
        };
        let en = match self {
            Self::Empty => "The phone number is missing; give a mobile number such as +7 916 123-45-67.".to_owned(),
            Self::InvalidCharacter(c) => format!(
                "The phone number contains the character “{c}”; use digits, a + at the start, spaces, dashes and brackets."
            ),
            Self::InternationalLength(n) => format!(
                "The international number has {n} digits; it must be a + and 8 to 15 digits."
            ),
            Self::RussianLength(n) => format!(
                "A number starting with +7 needs exactly 10 digits after the 7; it has {n}."
            ),
            Self::Unrecognised(n) => format!(
                "A number of {n} digits without a + is not recognised; give a mobile number such as 8 916 123-45-67, or an international number starting with +."
            ),
            Self::NotMobile => "This is not a mobile number (after 8 or 7 comes a 9 in a mobile number); give a mobile number such as 8 916 123-45-67.".to_owned(),
        };
        Localized::new(ru, en)
    }
}

impl PhoneNumber {
    /// Parses a phone number written by a person; see the type's documentation for the forms.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(PhoneError::Empty);
        }
        let (plus, rest) = match input.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        let mut digits = String::with_capacity(15);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '\u{a0}' | '-' | '(' | ')' | '.' => {}
                other => return Err(PhoneError::InvalidCharacter(other)),
            }
        }
        if digits.is_empty() {
            return Err(PhoneError::Empty);
        }
        if plus {
            if let Some(national) = digits.strip_prefix('7') {
                if national.len() != 10 {
                    return Err(PhoneError::RussianLength(national.len()));
                }
            } else if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
                return Err(PhoneError::InternationalLength(digits.len()));
            }
            return Ok(Self(format!("+{digits}")));
        }
        let national = match digits.len() {
            11 if digits.starts_with('8') || digits.starts_with('7') => &digits[1..],
            10 => &digits[..],
            n => return Err(PhoneError::Unrecognised(n)),
        };
        if !national.starts_with('9') {
            return Err(PhoneError::NotMobile);
        }
        Ok(Self(format!("+7{national}")))
    }

    /// The number in E.164 form, e.g. `+79161234567`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a Russian mobile number (`+79…`).
    pub fn is_russian_mobile(&self) -> bool {
        self.0.len() == 12 && self.0.starts_with("+79")
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for PhoneNumber {
    type Err = PhoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> Self {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn russian_forms_normalise_to_e164() {
        for form in [
            "8 (916) 123-45-67",
            "+7 916 1234567",
            "79161234567",
            "89161234567",
            "+7(916)123-45-67",
            "916 123 45 67",
            "  +7 916 123.45.67 ",
        ] {
            let p = PhoneNumber::parse(form).unwrap_or_else(|e| panic!("{form}: {e}"));
            assert_eq!(p.as_str(), "+79161234567", "{form}");
            assert!(p.is_russian_mobile());
        }
    }

    #[test]
    fn other_e164_numbers_are_kept() {
        let p = PhoneNumber::parse("+44 20 7946 0958").unwrap();
        assert_eq!(p.as_str(), "+442079460958");
        assert!(!p.is_russian_mobile());
        // +7 landlines and Kazakh numbers are valid E.164 numbers.
        assert_eq!(
            PhoneNumber::parse("+7 495 123-45-67").unwrap().as_str(),
            "+74951234567"
        );
        assert_eq!(
            PhoneNumber::parse("+7 701 123 4567").unwrap().as_str(),
            "+77011234567"
        );
    }

    #[test]
    fn bad_numbers_say_what_is_wrong() {
        assert_eq!(PhoneNumber::parse("   "), Err(PhoneError::Empty));
        assert_eq!(PhoneNumber::parse("+"), Err(PhoneError::Empty));
        assert_eq!(
            PhoneNumber::parse("8 916 123 45 6x"),
            Err(PhoneError::InvalidCharacter('x'))
        );
        assert_eq!(
            PhoneNumber::parse("+7 916 123 45 6"),
            Err(PhoneError::RussianLength(9))
        );
        assert_eq!(
            PhoneNumber::parse("+1234567"),
            Err(PhoneError::InternationalLength(7))
        );
        assert_eq!(
            PhoneNumber::parse("+1234567890123456"),
            Err(PhoneError::InternationalLength(16))
        );
        assert_eq!(
            PhoneNumber::parse("123456"),
            Err(PhoneError::Unrecognised(6))
        );
        assert_eq!(
            PhoneNumber::parse("8 (495) 123-45-67"),
            Err(PhoneError::NotMobile)
        );
        assert_eq!(
            PhoneNumber::parse("+7 916 +1234567"),
            Err(PhoneError::InvalidCharacter('+'))
        );
        let message = PhoneError::NotMobile.localized();
        assert!(message.ru.contains("мобильн"));
        assert!(message.en.contains("mobile number such as"));
    }

    #[test]
    fn serde_parses_and_normalises() {
        let p: PhoneNumber = serde_json::from_str("\"8 916 123-45-67\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"+79161234567\"");
        assert!(serde_json::from_str::<PhoneNumber>("\"nope\"").is_err());
    }

    proptest! {
        #[test]
        fn any_mobile_in_any_common_form_normalises(national in "9[0-9]{9}", form in 0usize..4) {
            let (a, b, c, d) = (&national[..3], &national[3..6], &national[6..8], &national[8..]);
            let written = match form {
                0 => format!("8 ({a}) {b}-{c}-{d}"),
                1 => format!("+7 {a} {b}{c}{d}"),
                2 => format!("7{national}"),
                _ => format!("{a} {b} {c} {d}"),
            };
            let parsed = PhoneNumber::parse(&written).unwrap();
            prop_assert_eq!(parsed.as_str(), format!("+7{national}"));
        }
    }
}
