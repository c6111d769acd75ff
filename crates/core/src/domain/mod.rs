//! Domain values parsed once at the edge ("parse, don't validate"): once one of these exists,
//! it is valid, and code past the edge never checks it again.
//!
//! Every parse error says what was wrong and what is expected, in English through `Display`
//! and in both languages through `localized()`, so the server can hand it to a resident.

mod document;
mod geo;
mod ids;
mod inn;
mod instant;
mod name;
mod phone;
mod text;

pub use document::{Document, DocumentError, DocumentKind};
pub use geo::{distance_m, GeoError, GeoPoint};
pub use ids::{IdError, IssuerCode, PurposeId, RegimeId};
pub use inn::{Inn, InnError, InnKind};
pub use instant::{is_sensible, parse_instant, sensible_range, InstantError};
pub use name::{FullName, NameError};
pub use phone::{PhoneError, PhoneNumber};
pub use text::{first_control, Line, Paragraph, TextError};

/// The only personal data that goes into a pass token: the holder's initials, a space, and the
/// last four characters of their document number, e.g. "И.И. 3456". Enough for an inspector
/// holding the document to see the pass is this person's; too little to identify anyone from
/// the QR code alone.
pub fn holder_hint(name: &FullName, document: &Document) -> String {
    format!("{} {}", name.initials(), document.last4())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_hint_is_initials_and_last_four() {
        let name = FullName::parse("Иванов Иван Иванович").unwrap();
        let passport = Document::parse(DocumentKind::PassportRu, "4510 123456").unwrap();
        assert_eq!(holder_hint(&name, &passport), "И.И. 3456");
        let child = FullName::parse("Петрова Мария").unwrap();
        let cert = Document::parse(DocumentKind::BirthCertificateRu, "IV-МЮ 987654").unwrap();
        assert_eq!(holder_hint(&child, &cert), "П.М. 7654");
    }
}
