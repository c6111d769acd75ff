//! Fields a purpose may require on a pass request, and how each is checked.

use std::fmt;

use crate::domain::{Inn, InnError};
use crate::Localized;

/// A field a purpose can require, named in a regime's `required_fields`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldKind {
    /// `employer_inn`: the employer's taxpayer number, checksum verified.
    EmployerInn,
    /// `employer_name`: the employer's name, 2–300 characters.
    EmployerName,
    /// `vehicle_plate`: a vehicle registration plate, 4–12 letters and digits.
    VehiclePlate,
}

/// Why a field value was refused, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", message.en)]
pub struct FieldError {
    /// What was wrong and what is expected.
    pub message: Localized,
}

impl FieldKind {
    /// Every field kind.
    pub const ALL: [FieldKind; 3] = [Self::EmployerInn, Self::EmployerName, Self::VehiclePlate];

    /// The name used in regime files and requests.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmployerInn => "employer_inn",
            Self::EmployerName => "employer_name",
            Self::VehiclePlate => "vehicle_plate",
        }
    }

    /// The field kind with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// What the field is, for messages: "ИНН работодателя" / "employer's INN".
    pub fn label(self) -> Localized {
        match self {
            Self::EmployerInn => Localized::new("ИНН работодателя", "employer's INN"),
            Self::EmployerName => Localized::new("название работодателя", "employer's name"),
            Self::VehiclePlate => Localized::new("госномер автомобиля", "vehicle plate"),
        }
    }

    /// Checks a value and returns its canonical form.
    pub fn parse_value(self, raw: &str) -> Result<String, FieldError> {
        match self {
            Self::EmployerInn => {
                Inn::parse(raw)
                    .map(String::from)
                    .map_err(|e: InnError| FieldError {
                        message: e.localized(),
                    })
            }
            Self::EmployerName => {
                let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
                let len = name.chars().count();
                if (2..=300).contains(&len) {
                    Ok(name)
                } else {
                    Err(FieldError {
                        message: Localized::new(
                            format!("В названии работодателя {len} символов; нужно от 2 до 300."),
                            format!(
                                "The employer's name has {len} characters; it must have 2 to 300."
                            ),
                        ),
                    })
                }
            }
            Self::VehiclePlate => {
                let plate: String = raw
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .flat_map(char::to_uppercase)
                    .collect();
                let ok = (4..=12).contains(&plate.chars().count())
                    && plate
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, 'А'..='Я' | 'Ё'));
                if ok {
                    Ok(plate)
                } else {
                    Err(FieldError {
                        message: Localized::new(
                            "Госномер указан неверно; нужно от 4 до 12 букв и цифр, например А123ВС 777.",
                            "The vehicle plate is not valid; it must have 4 to 12 letters and digits, e.g. А123ВС 777.",
                        ),
                    })
                }
            }
        }
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_values() {
        assert_eq!(
            FieldKind::EmployerInn.parse_value(" 7707083893 ").unwrap(),
            "7707083893"
        );
        let e = FieldKind::EmployerInn
            .parse_value("7707083894")
            .unwrap_err();
        assert!(e.message.en.contains("check digits"));
        assert_eq!(
            FieldKind::EmployerName
                .parse_value("  ООО  Ромашка ")
                .unwrap(),
            "ООО Ромашка"
        );
        assert!(FieldKind::EmployerName.parse_value("x").is_err());
        assert_eq!(
            FieldKind::VehiclePlate.parse_value("а123вс 777").unwrap(),
            "А123ВС777"
        );
        assert!(FieldKind::VehiclePlate.parse_value("A1").is_err());
        for kind in FieldKind::ALL {
            assert_eq!(FieldKind::from_name(kind.as_str()), Some(kind));
        }
        assert_eq!(FieldKind::from_name("inn"), None);
    }
}
