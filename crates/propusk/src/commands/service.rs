//! Who runs the service and how people reach them, for `propusk serve`: the details the
//! help, privacy and accessibility pages show. Layered like every setting: the `[service]`
//! table of the configuration file, then `PROPUSK_*` variables, then flags.
//!
//! | config file   | environment             | flag              | default                       |
//! |---------------|-------------------------|-------------------|-------------------------------|
//! | `operator`    | `PROPUSK_OPERATOR`      | `--operator`      | "the service's operator"      |
//! | `sms_number`  | `PROPUSK_SMS_NUMBER`    | `--sms-number`    | `sms.kannel.from` if a number, else 7377 |
//! | `hotline`     | `PROPUSK_HOTLINE`       | `--hotline`       | 8 800 000-00-00 (placeholder) |
//! | `email`       | `PROPUSK_CONTACT_EMAIL` | `--contact-email` | help@propusk.example (placeholder) |
//! | `legal_basis` | `PROPUSK_LEGAL_BASIS`   | —                 | the laws and the regime's act |

use anyhow::{bail, Result};
use clap::Args;
use propusk_server::settings::ServiceInfo;
use serde::Deserialize;

#[derive(Args, Debug, Default)]
pub struct ServiceArgs {
    /// The organisation that runs the service and answers for its data, shown on the
    /// privacy and help pages [default: "the service's operator"].
    #[arg(long, env = "PROPUSK_OPERATOR")]
    operator: Option<String>,
    /// The number residents text for a pass, shown on the help page [default: the Kannel
    /// sender number if it is one, else 7377].
    #[arg(long, env = "PROPUSK_SMS_NUMBER", value_name = "NUMBER")]
    sms_number: Option<String>,
    /// The telephone hotline shown on the help, privacy and accessibility pages
    /// [default: 8 800 000-00-00, a placeholder].
    #[arg(long, env = "PROPUSK_HOTLINE", value_name = "PHONE")]
    hotline: Option<String>,
    /// The contact e-mail address shown on the same pages [default: help@propusk.example,
    /// a placeholder].
    #[arg(
        long = "contact-email",
        env = "PROPUSK_CONTACT_EMAIL",
        value_name = "ADDRESS"
    )]
    email: Option<String>,
}

/// The `[service]` table of the configuration file. Every key is optional.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct ServiceFileConfig {
    operator: Option<String>,
    sms_number: Option<String>,
    hotline: Option<String>,
    email: Option<String>,
    legal_basis: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl ServiceArgs {
    /// The details after layering file < environment < flags, checked. `sms_sender` is the
    /// number outgoing SMS come from, the natural default for the number residents text.
    pub fn resolve(
        &self,
        file: Option<ServiceFileConfig>,
        sms_sender: Option<&str>,
    ) -> Result<ServiceInfo> {
        let file = file.unwrap_or_default();
        let defaults = ServiceInfo::default();
        let trimmed = |v: Option<String>| v.map(|s| s.trim().to_string());
        let sender = sms_sender
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()));
        let info = ServiceInfo {
            operator: trimmed(self.operator.clone().or(file.operator)),
            sms_number: trimmed(self.sms_number.clone().or(file.sms_number))
                .or(sender.map(str::to_string))
                .unwrap_or(defaults.sms_number),
            hotline: trimmed(self.hotline.clone().or(file.hotline)).unwrap_or(defaults.hotline),
            email: trimmed(self.email.clone().or(file.email)).unwrap_or(defaults.email),
            legal_basis: trimmed(env("PROPUSK_LEGAL_BASIS").or(file.legal_basis)),
        };
        if let Err(e) = info.check() {
            bail!("{e}");
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_speaks_and_the_sender_fills_in() {
        let file: ServiceFileConfig = toml::from_str(
            r#"
            operator = "Департамент здравоохранения"
            hotline = "+7 (495) 870-45-09"
            email = "help@mos.example"
            legal_basis = "Указ Мэра Москвы от 05.03.2020 № 12-УМ."
            "#,
        )
        .unwrap();
        let info = ServiceArgs::default()
            .resolve(Some(file), Some("0911"))
            .unwrap();
        assert_eq!(
            info.operator.as_deref(),
            Some("Департамент здравоохранения")
        );
        assert_eq!(info.sms_number, "0911", "the Kannel sender number");
        assert_eq!(info.hotline_href(), "tel:+74958704509");
        assert!(info.legal_basis.unwrap().contains("12-УМ"));

        let args = ServiceArgs {
            sms_number: Some("5555".into()),
            ..ServiceArgs::default()
        };
        let info = args.resolve(None, Some("PROPUSK")).unwrap();
        assert_eq!(info.sms_number, "5555", "a flag wins");
        let info = ServiceArgs::default()
            .resolve(None, Some("PROPUSK"))
            .unwrap();
        assert_eq!(
            info,
            ServiceInfo::default(),
            "a sender name is not a number"
        );

        let bad = ServiceArgs {
            email: Some("nobody".into()),
            ..ServiceArgs::default()
        };
        let e = bad.resolve(None, None).unwrap_err();
        assert!(format!("{e}").contains("service.email"), "{e}");
    }
}
