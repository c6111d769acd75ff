//! The registry's columns and rows: the header line names the columns (in any order), and
//! each row is checked with the domain's own parsers (`propusk_core::domain`), so what is
//! imported is exactly what the portal would accept from the resident. A row with anything
//! wrong is a reject that names every problem, in Russian and English, with a stable code.

use propusk_core::domain::{Document, DocumentKind, FullName, GeoPoint, PhoneError, PhoneNumber};
use propusk_core::Localized;
use propusk_store::RegistryRow;

use super::lines::{split, SplitError};

/// The columns every registry has.
pub const REQUIRED: [&str; 5] = [
    "phone",
    "full_name",
    "document_type",
    "document_number",
    "address",
];
/// The home's coordinates: both or neither.
pub const OPTIONAL: [&str; 2] = ["lat", "lon"];

/// The longest address, in characters (as in the portal).
const MAX_ADDRESS: usize = 300;

/// Where each column is on a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub delimiter: char,
    /// Fields per line.
    pub width: usize,
    phone: usize,
    full_name: usize,
    document_type: usize,
    document_number: usize,
    address: usize,
    coordinates: Option<(usize, usize)>,
}

/// Why the header line is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderProblem {
    /// The first line is a row of data.
    NoHeader,
    Broken(SplitError),
    Missing(Vec<&'static str>),
    Unknown(Vec<String>),
    Repeated(String),
    OneCoordinate,
}

fn expected_header() -> String {
    format!("{},{}", REQUIRED.join(","), OPTIONAL.join(","))
}

impl HeaderProblem {
    pub fn message(&self) -> Localized {
        let expected = expected_header();
        let (ru, en) = match self {
            Self::NoHeader => (
                "первая строка — данные, а не названия столбцов".to_string(),
                "the first line is data, not the column names".to_string(),
            ),
            Self::Broken(e) => {
                let (ru, en) = split_problem(*e);
                (ru, en)
            }
            Self::Missing(names) => (
                format!("нет столбцов {}", names.join(", ")),
                format!("the columns {} are missing", names.join(", ")),
            ),
            Self::Unknown(names) => (
                format!("неизвестные столбцы {}", names.join(", ")),
                format!("unknown columns {}", names.join(", ")),
            ),
            Self::Repeated(name) => (
                format!("столбец {name} указан дважды"),
                format!("the column {name} appears twice"),
            ),
            Self::OneCoordinate => (
                "координаты дома — это оба столбца lat и lon или ни одного".to_string(),
                "the home's coordinates are both lat and lon, or neither".to_string(),
            ),
        };
        Localized::new(
            format!("Это не реестр жителей в CSV: {ru}. Первая строка должна называть столбцы: {expected} (lat и lon необязательны)."),
            format!("This is not a residents registry in CSV: {en}. The first line must name the columns: {expected} (lat and lon are optional)."),
        )
    }
}

impl Header {
    /// Reads the header line. The delimiter is a comma, or a semicolon or a tab when the
    /// line names the columns with one of those (Russian Excel writes semicolons).
    pub fn parse(line: &str) -> Result<Self, HeaderProblem> {
        let mut best: Option<(char, Vec<String>)> = None;
        for delimiter in [',', ';', '\t'] {
            let mut fields = Vec::new();
            if split(line, delimiter, &mut fields).is_err() {
                continue;
            }
            let names: Vec<String> = fields.iter().map(|f| f.trim().to_lowercase()).collect();
            let known = names.iter().filter(|n| is_column(n)).count();
            if best
                .as_ref()
                .is_none_or(|(_, b)| known > b.iter().filter(|n| is_column(n)).count())
            {
                best = Some((delimiter, names));
            }
        }
        let Some((delimiter, names)) = best else {
            let mut fields = Vec::new();
            let e = split(line, ',', &mut fields).expect_err("no delimiter split the line");
            return Err(HeaderProblem::Broken(e));
        };
        if !names.iter().any(|n| is_column(n))
            && names.iter().any(|n| PhoneNumber::parse(n).is_ok())
        {
            return Err(HeaderProblem::NoHeader);
        }
        let unknown: Vec<String> = names.iter().filter(|n| !is_column(n)).cloned().collect();
        if !unknown.is_empty() {
            return Err(HeaderProblem::Unknown(unknown));
        }
        if let Some(twice) = names
            .iter()
            .enumerate()
            .find(|(i, n)| names[..*i].contains(n))
        {
            return Err(HeaderProblem::Repeated(twice.1.clone()));
        }
        let at = |name: &str| names.iter().position(|n| n == name);
        let missing: Vec<&'static str> = REQUIRED.into_iter().filter(|c| at(c).is_none()).collect();
        if !missing.is_empty() {
            return Err(HeaderProblem::Missing(missing));
        }
        let coordinates = match (at("lat"), at("lon")) {
            (Some(lat), Some(lon)) => Some((lat, lon)),
            (None, None) => None,
            _ => return Err(HeaderProblem::OneCoordinate),
        };
        let column = |name: &str| at(name).ok_or(HeaderProblem::Missing(vec![]));
        Ok(Self {
            delimiter,
            width: names.len(),
            phone: column("phone")?,
            full_name: column("full_name")?,
            document_type: column("document_type")?,
            document_number: column("document_number")?,
            address: column("address")?,
            coordinates,
        })
    }
}

fn is_column(name: &str) -> bool {
    REQUIRED.contains(&name) || OPTIONAL.contains(&name)
}

/// One thing wrong with a row: a stable code and what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: &'static str,
    pub reason: Localized,
}

impl Problem {
    fn new(code: &'static str, ru: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            code,
            reason: Localized::new(ru, en),
        }
    }

    /// A problem with one column, in the domain's own words.
    fn column(code: &'static str, column: &str, detail: Localized) -> Self {
        Self::new(
            code,
            format!("{column}: {}", detail.ru),
            format!("{column}: {}", detail.en),
        )
    }

    /// Several problems of one row as one: the first one's code, every reason.
    pub fn all(problems: Vec<Problem>) -> Problem {
        let code = problems.first().map_or("invalid_row", |p| p.code);
        let join = |pick: fn(&Localized) -> &str| {
            problems
                .iter()
                .map(|p| pick(&p.reason).trim_end_matches('.'))
                .collect::<Vec<_>>()
                .join("; ")
        };
        Problem {
            code,
            reason: Localized::new(join(|l| &l.ru), join(|l| &l.en)),
        }
    }
}

fn split_problem(e: SplitError) -> (String, String) {
    match e {
        SplitError::UnclosedQuote { column } => (
            format!("кавычка в позиции {column} не закрыта до конца строки"),
            format!("the quote at position {column} is not closed by the end of the line"),
        ),
        SplitError::StrayQuote { column } => (
            format!("лишняя кавычка в позиции {column} (кавычка внутри поля пишется двумя кавычками, а само поле берётся в кавычки)"),
            format!("a stray quote at position {column} (a quote inside a field is written twice, with the field in quotes)"),
        ),
    }
}

pub fn unreadable(code: &'static str, ru: &str, en: &str) -> Problem {
    Problem::new(code, ru, en)
}

/// Checks one line of data (not the header).
pub fn parse_row(header: &Header, line: u64, text: &str) -> Result<RegistryRow, Problem> {
    let mut fields = Vec::with_capacity(header.width);
    if let Err(e) = split(text, header.delimiter, &mut fields) {
        let (ru, en) = split_problem(e);
        let code = match e {
            SplitError::UnclosedQuote { .. } => "unclosed_quote",
            SplitError::StrayQuote { .. } => "stray_quote",
        };
        return Err(Problem::new(code, ru, en));
    }
    if fields.len() != header.width {
        let (code, ru, en) = if fields.len() < header.width {
            ("too_few_fields", "меньше", "fewer")
        } else {
            ("too_many_fields", "больше", "more")
        };
        return Err(Problem::new(
            code,
            format!(
                "в строке {} полей — {ru}, чем столбцов в заголовке ({}); поле с разделителем «{}» внутри берётся в кавычки",
                fields.len(),
                header.width,
                header.delimiter
            ),
            format!(
                "the line has {} fields, {en} than the header's {} columns; a field with a '{}' in it goes in quotes",
                fields.len(),
                header.width,
                header.delimiter
            ),
        ));
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(Problem::new(
            "control_character",
            format!("в строке управляющий символ U+{:04X}; допустимы только печатные символы", c as u32),
            format!("the line holds the control character U+{:04X}; only printable characters are allowed", c as u32),
        ));
    }
    let mut problems = Vec::new();
    let phone = match fields[header.phone].trim() {
        "" => {
            problems.push(Problem::new(
                "phone_missing",
                "телефон не указан",
                "the phone number is missing",
            ));
            None
        }
        p => PhoneNumber::parse(p)
            .map_err(|e| {
                let code = match e {
                    PhoneError::NotMobile => "phone_not_mobile",
                    _ => "phone_invalid",
                };
                problems.push(Problem::column(code, "phone", e.localized()));
            })
            .ok(),
    };
    let full_name = match fields[header.full_name].trim() {
        "" => {
            problems.push(Problem::new(
                "name_missing",
                "ФИО не указаны",
                "the full name is missing",
            ));
            None
        }
        n => FullName::parse(n)
            .map_err(|e| problems.push(Problem::column("name_invalid", "full_name", e.localized())))
            .ok(),
    };
    let kind = match fields[header.document_type].trim() {
        "" => {
            problems.push(Problem::new(
                "document_type_missing",
                "тип документа не указан (passport_ru, foreign_passport_ru, birth_certificate_ru или foreign_document)",
                "the document type is missing (passport_ru, foreign_passport_ru, birth_certificate_ru or foreign_document)",
            ));
            None
        }
        k => k
            .parse::<DocumentKind>()
            .map_err(|e| {
                problems.push(Problem::column(
                    "document_type_unknown",
                    "document_type",
                    e.localized(),
                ))
            })
            .ok(),
    };
    let document = match (kind, fields[header.document_number].trim()) {
        (_, "") => {
            problems.push(Problem::new(
                "document_number_missing",
                "номер документа не указан",
                "the document number is missing",
            ));
            None
        }
        (None, _) => None,
        (Some(kind), number) => Document::parse(kind, number)
            .map_err(|e| {
                problems.push(Problem::column(
                    "document_number_invalid",
                    "document_number",
                    e.localized(),
                ))
            })
            .ok(),
    };
    let address = fields[header.address].trim();
    if address.is_empty() {
        problems.push(Problem::new(
            "address_missing",
            "адрес не указан",
            "the address is missing",
        ));
    } else if address.chars().count() > MAX_ADDRESS {
        problems.push(Problem::new(
            "address_too_long",
            format!("адрес длиннее {MAX_ADDRESS} символов"),
            format!("the address is longer than {MAX_ADDRESS} characters"),
        ));
    }
    let home = match header.coordinates {
        None => None,
        Some((lat, lon)) => coordinates(fields[lat].trim(), fields[lon].trim())
            .map_err(|p| problems.push(p))
            .ok()
            .flatten(),
    };
    match (phone, full_name, document) {
        (Some(phone), Some(full_name), Some(document)) if problems.is_empty() => Ok(RegistryRow {
            line,
            phone,
            full_name,
            document,
            address: address.to_string(),
            home,
        }),
        _ => Err(Problem::all(problems)),
    }
}

/// The home's coordinates: both given or both empty. A decimal comma is read as a point
/// (Russian spreadsheets write one).
fn coordinates(lat: &str, lon: &str) -> Result<Option<GeoPoint>, Problem> {
    match (lat, lon) {
        ("", "") => return Ok(None),
        ("", _) | (_, "") => {
            return Err(Problem::new(
                "coordinates_incomplete",
                "указана только одна координата дома: нужны обе (lat и lon) или ни одной",
                "only one of the home's coordinates is given: give both lat and lon, or neither",
            ))
        }
        _ => {}
    }
    let number = |s: &str| {
        let plain = s
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-' | '+'));
        plain
            .then(|| s.replace(',', ".").parse::<f64>().ok())
            .flatten()
            .ok_or_else(|| {
                Problem::new(
                    "coordinate_not_a_number",
                    format!("координата «{s}» — не число; нужны градусы с десятичной точкой, например 55.7558"),
                    format!("the coordinate '{s}' is not a number; expected decimal degrees, e.g. 55.7558"),
                )
            })
    };
    let (lat, lon) = (number(lat)?, number(lon)?);
    GeoPoint::new(lat, lon)
        .map(Some)
        .map_err(|e| Problem::column("coordinate_out_of_range", "lat/lon", e.localized()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "phone,full_name,document_type,document_number,address,lat,lon";

    fn row(line: &str) -> Result<RegistryRow, Problem> {
        parse_row(&Header::parse(HEADER).unwrap(), 2, line)
    }

    #[test]
    fn headers_in_any_order_and_delimiter() {
        let h = Header::parse("Address;PHONE;full_name;document_number;document_type").unwrap();
        assert_eq!((h.delimiter, h.width, h.phone, h.address), (';', 5, 1, 0));
        assert_eq!(h.coordinates, None);
        assert_eq!(Header::parse(HEADER).unwrap().coordinates, Some((5, 6)));
        assert_eq!(
            Header::parse("phone,full_name,address"),
            Err(HeaderProblem::Missing(vec![
                "document_type",
                "document_number"
            ]))
        );
        assert_eq!(
            Header::parse("phone,full_name,document_type,document_number,address,lat"),
            Err(HeaderProblem::OneCoordinate)
        );
        assert_eq!(
            Header::parse("phone,fullname,document_type,document_number,address"),
            Err(HeaderProblem::Unknown(vec!["fullname".into()]))
        );
        assert_eq!(
            Header::parse("+79161234567,Иванов Иван,passport_ru,4510123456,Москва"),
            Err(HeaderProblem::NoHeader)
        );
        assert_eq!(
            Header::parse("phone,phone,full_name,document_type,document_number,address"),
            Err(HeaderProblem::Repeated("phone".into()))
        );
        assert!(HeaderProblem::NoHeader
            .message()
            .ru
            .contains("phone,full_name"));
    }

    #[test]
    fn a_good_row_is_parsed_as_the_portal_would() {
        let r = row("8 (916) 123-45-67,  Иванов  Иван Иванович ,passport_ru,4510 123456,\"Москва, ул. Тверская, д. 1\",55.7575,37.6130").unwrap();
        assert_eq!(r.phone.as_str(), "+79161234567");
        assert_eq!(r.full_name.as_str(), "Иванов Иван Иванович");
        assert_eq!(r.document.number(), "4510123456");
        assert_eq!(r.address, "Москва, ул. Тверская, д. 1");
        assert_eq!(r.home.unwrap().lat(), 55.7575);
        let no_home = row("+79161234567,Иванов Иван,passport_ru,4510123456,Москва,,").unwrap();
        assert_eq!(no_home.home, None);
    }

    #[test]
    fn every_problem_of_a_row_is_named() {
        let code = |line: &str| row(line).unwrap_err().code;
        assert_eq!(
            code("+79161234567,Иванов Иван,passport_ru,4510123456,\"Москва"),
            "unclosed_quote"
        );
        assert_eq!(
            code("+79161234567,Иванов \"Иван\",passport_ru,4510123456,Москва,,"),
            "stray_quote"
        );
        assert_eq!(
            code("+79161234567,Иванов Иван,passport_ru,4510123456"),
            "too_few_fields"
        );
        assert_eq!(
            code("+79161234567,Иванов Иван,passport_ru,4510123456,Москва,1,2,3"),
            "too_many_fields"
        );
        assert_eq!(
            code("+79161234567,Иванов\u{7}Иван,passport_ru,4510123456,Москва,,"),
            "control_character"
        );
        assert_eq!(
            code(",Иванов Иван,passport_ru,4510123456,Москва,,"),
            "phone_missing"
        );
        assert_eq!(
            code("+7916123456x,Иванов Иван,passport_ru,4510123456,Москва,,"),
            "phone_invalid"
        );
        assert_eq!(
            code("8 495 123-45-67,Иванов Иван,passport_ru,4510123456,Москва,,"),
            "phone_not_mobile"
        );
        assert_eq!(
            code("+79161234567,,passport_ru,4510123456,Москва,,"),
            "name_missing"
        );
        assert_eq!(
            code("+79161234567,Иванов 2,passport_ru,4510123456,Москва,,"),
            "name_invalid"
        );
        assert_eq!(
            code("+79161234567,Иванов Иван,,4510123456,Москва,,"),
            "document_type_missing"
        );
        assert_eq!(
            code("+79161234567,Иванов Иван,passport,4510123456,Москва,,"),
            "document_type_unknown"
        );
        assert_eq!(
            code("+79161234567,Иванов Иван,passport_ru,,Москва,,"),
            "document_number_missing"
        );
        assert_eq!(
            code("+79161234567,Иванов Иван,passport_ru,451012345,Москва,,"),
            "document_number_invalid"
        );
        assert_eq!(
            code("+79161234567,Иванов Иван,passport_ru,4510123456, ,,"),
            "address_missing"
        );
        let long = "д".repeat(301);
        assert_eq!(
            code(&format!(
                "+79161234567,Иванов Иван,passport_ru,4510123456,{long},,"
            )),
            "address_too_long"
        );
        assert_eq!(
            code("+79161234567,Иванов Иван,passport_ru,4510123456,Москва,55.75,"),
            "coordinates_incomplete"
        );
        assert_eq!(
            code("+79161234567,Иванов Иван,passport_ru,4510123456,Москва,55.75,NaN"),
            "coordinate_not_a_number"
        );
        assert_eq!(
            code("+79161234567,Иванов Иван,passport_ru,4510123456,Москва,95.1,37.6"),
            "coordinate_out_of_range"
        );
        // Several problems: the first one's code, every reason.
        let p = row("8 495 123-45-67,Иванов 2,passport_ru,1,Москва,,").unwrap_err();
        assert_eq!(p.code, "phone_not_mobile");
        for column in ["phone: ", "; full_name: ", "; document_number: "] {
            assert!(p.reason.en.contains(column), "{}", p.reason.en);
        }
    }
}
