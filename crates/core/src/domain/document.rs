//! Identity documents: what a resident shows an inspector next to their pass.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Localized;

/// The kinds of identity document a resident can register with.
///
/// Serialised as the snake_case names `passport_ru`, `foreign_passport_ru`,
/// `birth_certificate_ru`, `foreign_document`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = DocumentType))]
pub enum DocumentKind {
    /// Russian internal passport: 4-digit series and 6-digit number.
    PassportRu,
    /// Russian international passport (загранпаспорт): 9 digits.
    ForeignPassportRu,
    /// Russian birth certificate: Roman-numeral series, dash, two Cyrillic letters, 6 digits.
    BirthCertificateRu,
    /// Any foreign identity document: 5–20 letters and digits.
    ForeignDocument,
}

impl DocumentKind {
    /// Every kind, in a stable order.
    pub const ALL: [DocumentKind; 4] = [
        Self::PassportRu,
        Self::ForeignPassportRu,
        Self::BirthCertificateRu,
        Self::ForeignDocument,
    ];

    /// The snake_case name used in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PassportRu => "passport_ru",
            Self::ForeignPassportRu => "foreign_passport_ru",
            Self::BirthCertificateRu => "birth_certificate_ru",
            Self::ForeignDocument => "foreign_document",
        }
    }

    /// The kind's name, in Russian and English: "паспорт гражданина РФ" / "Russian passport".
    pub fn name(self) -> Localized {
        match self {
            Self::PassportRu => Localized::new("паспорт гражданина РФ", "Russian passport"),
            Self::ForeignPassportRu => Localized::new(
                "заграничный паспорт гражданина РФ",
                "Russian passport for travel abroad",
            ),
            Self::BirthCertificateRu => {
                Localized::new("свидетельство о рождении (РФ)", "Russian birth certificate")
            }
            Self::ForeignDocument => Localized::new(
                "документ иностранного государства",
                "foreign identity document",
            ),
        }
    }

    /// What a number of this kind looks like, in Russian and English.
    pub fn expected_form(self) -> Localized {
        match self {
            Self::PassportRu => Localized::new(
                "10 цифр: серия (4 цифры) и номер (6 цифр), например 4510 123456",
                "10 digits: a 4-digit series and a 6-digit number, e.g. 4510 123456",
            ),
            Self::ForeignPassportRu => Localized::new(
                "9 цифр, например 75 1234567",
                "9 digits, e.g. 75 1234567",
            ),
            Self::BirthCertificateRu => Localized::new(
                "серия римскими цифрами, дефис, две русские буквы и 6 цифр номера, например IV-МЮ 123456",
                "a Roman-numeral series, a dash, two Cyrillic letters and a 6-digit number, e.g. IV-МЮ 123456",
            ),
            Self::ForeignDocument => Localized::new(
                "от 5 до 20 букв и цифр",
                "5 to 20 letters and digits",
            ),
        }
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DocumentKind {
    type Err = DocumentError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DocumentError::UnknownKind(s.to_owned()))
    }
}

/// An identity document whose number is valid for its kind, stored in canonical form:
///
/// - `passport_ru`: 10 digits, no spaces (`4510123456`);
/// - `foreign_passport_ru`: 9 digits (`751234567`);
/// - `birth_certificate_ru`: `IV-МЮ 123456` (Latin Roman numerals, Cyrillic capitals);
/// - `foreign_document`: capital letters and digits (`AB1234567`).
///
/// JSON form: `{"type": "passport_ru", "number": "4510 123456"}` (`kind` is accepted for
/// `type` on input).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawDocument", into = "RawDocument")]
pub struct Document {
    kind: DocumentKind,
    number: String,
}

#[derive(Serialize, Deserialize)]
struct RawDocument {
    #[serde(rename = "type", alias = "kind")]
    kind: DocumentKind,
    number: String,
}

/// What was wrong with a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// The kind is none of the known names.
    #[error("{}", self.localized().en)]
    UnknownKind(String),
    /// The number does not have the form its kind requires.
    #[error("{}", self.localized().en)]
    Malformed {
        /// The document kind.
        kind: DocumentKind,
        /// The number as given.
        number: String,
    },
}

impl DocumentError {
    /// The message in Russian and English, for residents (also the error's text).
    pub fn localized(&self) -> Localized {
        let list = |ru: bool| {
            DocumentKind::ALL
                .iter()
                .map(|k| {
                    let name = k.name();
                    if ru {
                        name.ru
                    } else {
                        name.en
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Self::UnknownKind(_) => Localized::new(
                format!(
                    "Такого вида документа нет; выберите один из: {}.",
                    list(true)
                ),
                format!(
                    "There is no such kind of document; choose one of: {}.",
                    list(false)
                ),
            ),
            Self::Malformed { kind, number } => Localized::new(
                format!(
                    "Номер «{number}» не похож на номер документа «{}»; нужно: {}.",
                    kind.name().ru,
                    kind.expected_form().ru
                ),
                format!(
                    "The number “{number}” does not look like the number of a {}; expected {}.",
                    kind.name().en,
                    kind.expected_form().en
                ),
            ),
        }
    }
}

impl Document {
    /// Parses a document number of the given kind.
    pub fn parse(kind: DocumentKind, number: &str) -> Result<Self, DocumentError> {
        let canonical = match kind {
            DocumentKind::PassportRu => digits_only(number, 10),
            DocumentKind::ForeignPassportRu => digits_only(number, 9),
            DocumentKind::BirthCertificateRu => birth_certificate(number),
            DocumentKind::ForeignDocument => foreign_document(number),
        };
        canonical
            .map(|number| Self { kind, number })
            .ok_or_else(|| DocumentError::Malformed {
                kind,
                number: number.to_owned(),
            })
    }

    /// The kind of document.
    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    /// The number in canonical form.
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The last four characters of the number: the part an inspector compares.
    pub fn last4(&self) -> &str {
        let start = self
            .number
            .char_indices()
            .rev()
            .nth(3)
            .map_or(0, |(i, _)| i);
        &self.number[start..]
    }
}

impl TryFrom<RawDocument> for Document {
    type Error = DocumentError;
    fn try_from(raw: RawDocument) -> Result<Self, Self::Error> {
        Self::parse(raw.kind, &raw.number)
    }
}

impl From<Document> for RawDocument {
    fn from(d: Document) -> Self {
        Self {
            kind: d.kind,
            number: d.number,
        }
    }
}

/// Exactly `len` digits, spaces allowed anywhere.
fn digits_only(input: &str, len: usize) -> Option<String> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == len && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// `IV-МЮ 123456`: Roman series, optional dash and spaces, two Cyrillic capitals, optional
/// spaces or `№`, six digits. Cyrillic look-alikes of Roman letters (І, Х, С, М) are read as
/// Latin, since people type series with whichever keyboard layout is on.
fn birth_certificate(input: &str) -> Option<String> {
    let chars: Vec<char> = input.trim().chars().collect();
    let mut i = 0;
    let mut roman = String::new();
    while let Some(&c) = chars.get(i) {
        let latin = match c.to_uppercase().next()? {
            'I' | 'І' | 'Ӏ' => 'I',
            'V' => 'V',
            'X' | 'Х' => 'X',
            'L' => 'L',
            'C' | 'С' => 'C',
            'D' => 'D',
            'M' | 'М' => 'M',
            _ => break,
        };
        // Stop before the letter part: `XМ 123456` must keep `М` as a series letter when
        // only two Cyrillic letters remain after it.
        roman.push(latin);
        i += 1;
    }
    // A Cyrillic letter that looks Roman may belong to the two-letter part ("IV-МЮ" typed as
    // "IVМЮ"): give back trailing characters until exactly two letters follow the series.
    let skip_separators = |mut j: usize| {
        while matches!(chars.get(j), Some(' ' | '-' | '–')) {
            j += 1;
        }
        j
    };
    loop {
        let j = skip_separators(i);
        let letters_follow = chars
            .get(j..j + 2)
            .is_some_and(|l| l.iter().all(|c| is_cyrillic_letter(*c)))
            && !chars.get(j + 2).is_some_and(|c| is_cyrillic_letter(*c));
        if letters_follow || roman.is_empty() {
            break;
        }
        roman.pop();
        i -= 1;
    }
    roman_value(&roman)?;
    let i = skip_separators(i);
    let letters: String = chars
        .get(i..i + 2)?
        .iter()
        .flat_map(|c| c.to_uppercase())
        .collect();
    if !letters.chars().all(is_cyrillic_letter) {
        return None;
    }
    let rest: String = chars[i + 2..]
        .iter()
        .filter(|c| !c.is_whitespace() && **c != '№')
        .collect();
    if rest.len() != 6 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{roman}-{letters} {rest}"))
}

fn is_cyrillic_letter(c: char) -> bool {
    matches!(c, 'А'..='я' | 'Ё' | 'ё')
}

/// The value of a Roman numeral in canonical form (`IV`, not `IIII`), or `None`.
fn roman_value(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let value = |c| match c {
        'I' => 1,
        'V' => 5,
        'X' => 10,
        'L' => 50,
        'C' => 100,
        'D' => 500,
        'M' => 1000,
        _ => 0,
    };
    let digits: Vec<u32> = s.chars().map(value).collect();
    let mut total = 0;
    for (k, d) in digits.iter().enumerate() {
        match digits.get(k + 1) {
            Some(next) if next > d => total -= *d as i64,
            _ => total += *d as i64,
        }
    }
    let total = u32::try_from(total)
        .ok()
        .filter(|t| (1..4000).contains(t))?;
    (to_roman(total) == s).then_some(total)
}

fn to_roman(mut n: u32) -> String {
    const TABLE: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (value, letters) in TABLE {
        while n >= value {
            out.push_str(letters);
            n -= value;
        }
    }
    out
}

/// 5–20 Latin or Cyrillic letters and digits; spaces ignored; capitals kept.
fn foreign_document(input: &str) -> Option<String> {
    let s: String = input
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    let ok = (5..=20).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || is_cyrillic_letter(c));
    ok.then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(kind: DocumentKind, n: &str) -> Result<String, DocumentError> {
        Document::parse(kind, n).map(|d| d.number().to_owned())
    }

    #[test]
    fn russian_passport() {
        use DocumentKind::PassportRu as P;
        assert_eq!(parse(P, "4510 123456").unwrap(), "4510123456");
        assert_eq!(parse(P, "45 10 123456").unwrap(), "4510123456");
        assert_eq!(parse(P, "4510123456").unwrap(), "4510123456");
        assert!(parse(P, "4510 12345").is_err());
        assert!(parse(P, "4510-123456").is_err());
        assert!(parse(P, "451O123456").is_err());
    }

    #[test]
    fn foreign_passport() {
        use DocumentKind::ForeignPassportRu as F;
        assert_eq!(parse(F, "75 1234567").unwrap(), "751234567");
        assert!(parse(F, "7512345678").is_err());
    }

    #[test]
    fn birth_certificate() {
        use DocumentKind::BirthCertificateRu as B;
        assert_eq!(parse(B, "IV-МЮ 123456").unwrap(), "IV-МЮ 123456");
        assert_eq!(parse(B, "iv-мю 123456").unwrap(), "IV-МЮ 123456");
        assert_eq!(parse(B, "IV МЮ №123456").unwrap(), "IV-МЮ 123456");
        assert_eq!(parse(B, "IVМЮ123456").unwrap(), "IV-МЮ 123456");
        // Roman series typed on a Cyrillic layout.
        assert_eq!(parse(B, "ХІІ-АБ 654321").unwrap(), "XII-АБ 654321");
        // A series letter that looks Roman but belongs to the two-letter part.
        assert_eq!(parse(B, "XСМ 123456").unwrap(), "X-СМ 123456");
        assert!(parse(B, "IIII-МЮ 123456").is_err(), "non-canonical numeral");
        assert!(parse(B, "IV-MU 123456").is_err(), "Latin letters part");
        assert!(parse(B, "IV-МЮ 12345").is_err());
        assert!(parse(B, "МЮ 123456").is_err(), "no series");
        assert!(parse(B, "IV-МЮЯ 123456").is_err());
    }

    #[test]
    fn foreign_document() {
        use DocumentKind::ForeignDocument as D;
        assert_eq!(parse(D, "ab 123 4567").unwrap(), "AB1234567");
        assert!(parse(D, "A123").is_err());
        assert!(parse(D, "A1234567890123456789X").is_err());
        assert!(parse(D, "AB-12345").is_err());
    }

    #[test]
    fn last_four_characters() {
        let p = Document::parse(DocumentKind::PassportRu, "4510 123456").unwrap();
        assert_eq!(p.last4(), "3456");
        let b = Document::parse(DocumentKind::BirthCertificateRu, "IV-МЮ 123456").unwrap();
        assert_eq!(b.last4(), "3456");
        let f = Document::parse(DocumentKind::ForeignDocument, "ЖЖЖЖЖ").unwrap();
        assert_eq!(f.last4(), "ЖЖЖЖ");
    }

    #[test]
    fn serde_names_and_shape() {
        let d: Document =
            serde_json::from_str(r#"{"type":"passport_ru","number":"4510 123456"}"#).unwrap();
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            serde_json::json!({"type": "passport_ru", "number": "4510123456"})
        );
        for kind in DocumentKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(kind.as_str().parse::<DocumentKind>().unwrap(), kind);
        }
        assert!(
            serde_json::from_str::<Document>(r#"{"type":"passport_ru","number":"1"}"#).is_err()
        );
        assert!(
            serde_json::from_str::<Document>(r#"{"type":"passport","number":"4510123456"}"#)
                .is_err()
        );
        let e = Document::parse(DocumentKind::PassportRu, "1").unwrap_err();
        assert!(e.to_string().contains("expected 10 digits"));
        assert!(e.localized().ru.contains("10 цифр"));
    }
}
