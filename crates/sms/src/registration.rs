//! Registering by SMS alone: a name and an identity document, so that a person with no
//! internet can get passes.
//!
//! A registration message has no form to pick the document type from, so the type is read
//! from the number's shape: 10 digits are a Russian passport (series and number), 9 digits a
//! Russian international passport, `IV-МЮ 123456` a birth certificate, 5–20 letters and
//! digits a foreign document. Any other run of digits is refused with the expected form
//! rather than guessed at (an 11-digit passport is a typo, not a foreign document).
//!
//! The home address is optional and kept as text. Residents registered by SMS have no home
//! location: the SMS grammar has no way to name a destination, and a request without one is
//! decided as a trip near home (the core's rule 8), so no regime needs the location for an
//! SMS pass. A resident who later fills in the web profile gains a location and can ask for
//! distance-limited passes with a destination there.

use propusk_core::domain::{Document, DocumentKind, FullName};
use propusk_core::Localized;

use crate::grammar::is_certificate_series;
use crate::normalize::mostly_cyrillic;

/// A checked registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub full_name: FullName,
    pub document: Document,
    /// The home address as written, if given.
    pub address: Option<String>,
}

/// What is wrong with a registration message, in words for the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No name was given.
    MissingName,
    /// The name is not a name (digits, symbols, too short or too long).
    BadName(Localized),
    /// No document was given.
    MissingDocument,
    /// The document number has no recognisable form.
    BadDocument(String),
}

/// The most characters of an address kept.
const MAX_ADDRESS: usize = 200;

/// Checks the parts of a registration message: `[name, document, address?]`.
pub fn registration(fields: &[String]) -> Result<Registration, Vec<Problem>> {
    let mut problems = Vec::new();
    let name = match fields.first().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => {
            problems.push(Problem::MissingName);
            None
        }
        Some(raw) => match FullName::parse(&tidy_name(raw)) {
            Ok(name) => Some(name),
            Err(e) => {
                problems.push(Problem::BadName(e.localized()));
                None
            }
        },
    };
    let document = match fields.get(1).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => {
            problems.push(Problem::MissingDocument);
            None
        }
        Some(raw) => match guess_document(raw) {
            Some(doc) => Some(doc),
            None => {
                problems.push(Problem::BadDocument(raw.chars().take(30).collect()));
                None
            }
        },
    };
    let address = (fields.len() > 2)
        .then(|| fields[2..].join(", "))
        .map(|a| a.chars().take(MAX_ADDRESS).collect::<String>())
        .filter(|a| !a.trim().is_empty());
    match (name, document) {
        (Some(full_name), Some(document)) if problems.is_empty() => Ok(Registration {
            full_name,
            document,
            address,
        }),
        _ => Err(problems),
    }
}

/// Capitalises a name typed all in capitals or all in small letters (`ИВАНОВ ИВАН` →
/// `Иванов Иван`) and reads Latin look-alikes in a Cyrillic word as Cyrillic (`Ивaнов` with a
/// Latin `a`), so that initials on the pass come out right.
pub fn tidy_name(raw: &str) -> String {
    let words: Vec<String> = raw
        .split_whitespace()
        .map(|w| {
            if mostly_cyrillic(w) == Some(true) {
                w.chars().map(cyrillic_look_alike).collect()
            } else {
                w.to_string()
            }
        })
        .collect();
    let letters = words
        .iter()
        .flat_map(|w| w.chars())
        .filter(|c| c.is_alphabetic());
    let (upper, lower) = letters.fold((0, 0), |(u, l), c| {
        (
            u + usize::from(c.is_uppercase()),
            l + usize::from(c.is_lowercase()),
        )
    });
    let uniform = upper == 0 || lower == 0;
    words
        .iter()
        .map(|w| if uniform { title_case(w) } else { w.clone() })
        .collect::<Vec<_>>()
        .join(" ")
}

fn cyrillic_look_alike(c: char) -> char {
    match c {
        'A' => 'А',
        'a' => 'а',
        'B' => 'В',
        'C' => 'С',
        'c' => 'с',
        'E' => 'Е',
        'e' => 'е',
        'H' => 'Н',
        'K' => 'К',
        'k' => 'к',
        'M' => 'М',
        'O' => 'О',
        'o' => 'о',
        'P' => 'Р',
        'p' => 'р',
        'T' => 'Т',
        'X' => 'Х',
        'x' => 'х',
        'y' => 'у',
        c => c,
    }
}

/// `ИВАНОВА-ПЕТРОВА` → `Иванова-Петрова`.
fn title_case(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut start = true;
    for c in word.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = matches!(c, '-' | '\'' | '’');
    }
    out
}

/// The document a number's shape says it is. See the module documentation.
pub fn guess_document(raw: &str) -> Option<Document> {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '№' | '-' | '.' | '_'))
        .collect();
    if compact.is_empty() {
        return None;
    }
    if compact.chars().all(|c| c.is_ascii_digit()) {
        return match compact.len() {
            10 => Document::parse(DocumentKind::PassportRu, &compact).ok(),
            9 => Document::parse(DocumentKind::ForeignPassportRu, &compact).ok(),
            _ => None,
        };
    }
    let first_word = raw.split_whitespace().next().unwrap_or("");
    if is_certificate_series(first_word) {
        return Document::parse(DocumentKind::BirthCertificateRu, raw).ok();
    }
    if let Ok(doc) = Document::parse(DocumentKind::BirthCertificateRu, raw) {
        return Some(doc);
    }
    if compact.chars().any(|c| c.is_ascii_digit()) {
        return Document::parse(DocumentKind::ForeignDocument, &compact).ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn documents_by_shape() {
        let kind = |s: &str| guess_document(s).map(|d| d.kind());
        assert_eq!(kind("4510 123456"), Some(DocumentKind::PassportRu));
        assert_eq!(kind("45 10 123-456"), Some(DocumentKind::PassportRu));
        assert_eq!(kind("751234567"), Some(DocumentKind::ForeignPassportRu));
        assert_eq!(kind("IV-МЮ 123456"), Some(DocumentKind::BirthCertificateRu));
        assert_eq!(kind("AB1234567"), Some(DocumentKind::ForeignDocument));
        assert_eq!(
            kind("45101234567"),
            None,
            "11 digits is a typo, not a guess"
        );
        assert_eq!(kind("12345"), None);
        assert_eq!(kind("паспорт"), None);
        assert_eq!(
            guess_document("4510 123456").unwrap().number(),
            "4510123456"
        );
    }

    #[test]
    fn names_are_tidied() {
        assert_eq!(tidy_name("ИВАНОВ ИВАН ИВАНОВИЧ"), "Иванов Иван Иванович");
        assert_eq!(tidy_name("иванова-петрова анна"), "Иванова-Петрова Анна");
        assert_eq!(tidy_name("Ивaнов Иван"), "Иванов Иван");
        assert_eq!(tidy_name("McDonald Ronald"), "McDonald Ronald");
        assert_eq!(tidy_name("JOHN SMITH"), "John Smith");
    }

    #[test]
    fn complete_and_incomplete() {
        let r = registration(&fields(&["Иванов Иван Иванович", "4510123456"])).unwrap();
        assert_eq!(r.full_name.initials(), "И.И.");
        assert_eq!(r.address, None);
        let r = registration(&fields(&[
            "Иванов Иван",
            "4510123456",
            "Тверская 1",
            "кв 5",
        ]))
        .unwrap();
        assert_eq!(r.address.as_deref(), Some("Тверская 1, кв 5"));
        assert_eq!(
            registration(&[]),
            Err(vec![Problem::MissingName, Problem::MissingDocument])
        );
        assert_eq!(
            registration(&fields(&["Иванов Иван"])),
            Err(vec![Problem::MissingDocument])
        );
        assert!(matches!(
            registration(&fields(&["Иванов Иван", "123"])).unwrap_err()[..],
            [Problem::BadDocument(_)]
        ));
        assert!(matches!(
            registration(&fields(&["И", "4510123456"])).unwrap_err()[..],
            [Problem::BadName(_)]
        ));
    }
}
