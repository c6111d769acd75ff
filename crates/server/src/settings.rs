//! Everything a running service is configured with, in one value. The binary layers the
//! TOML file, `PROPUSK_*` variables and flags into a [`Settings`]; tests and benchmarks
//! start from [`Settings::default`] and change what they need. [`crate::Application::build`]
//! is the only place the running state is made from it, so a setting cannot be read from
//! the file and then never reach the service.

use crate::edge::EdgeSettings;
use crate::limits::{LoginLimits, SignInLimits};
use crate::monitoring::MonitoringSettings;
use crate::sms::SmsSettings;

#[derive(Clone)]
pub struct Settings {
    /// The address to listen on (`127.0.0.1:0`: any free port).
    pub listen: String,
    /// Requests served at once before new ones get 503 + Retry-After.
    pub max_in_flight: usize,
    /// A TLS-terminating proxy is in front: every answer carries HSTS and every cookie is
    /// Secure.
    pub behind_tls: bool,
    /// The URL patients' phones reach the service at (`https://propusk.example`), for links
    /// in SMS and QR codes; none: `http://` and the bound address.
    pub public_url: Option<String>,
    /// Tests may move the service's clock over HTTP (loopback only; see `routes::test_clock`).
    pub test_clock: bool,
    /// Where SMS go.
    pub gateway: GatewayConfig,
    /// The SMS channel's inbound secret, per-phone limits and outbox lease.
    pub sms: SmsSettings,
    /// Retention, check-in hours and the face matcher of quarantine monitoring.
    pub monitoring: MonitoringSettings,
    /// Connection and body bounds, trusted proxies.
    pub edge: EdgeSettings,
    /// How often sign-in codes may be sent (per phone, requester, client, in all).
    pub sign_in: SignInLimits,
    /// Staff password guards and the bound on password checks at once.
    pub login: LoginLimits,
    /// How large, and how many at once, photos are decoded.
    pub photos: PhotoLimits,
    /// Who runs the service and how people reach them (the help and privacy pages).
    pub service: ServiceInfo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoLimits {
    /// The most pixels a photo may have.
    pub max_pixels: u64,
    /// Photos decoded at once (each on its own thread).
    pub concurrent_decodes: usize,
}

impl Default for PhotoLimits {
    fn default() -> Self {
        Self {
            max_pixels: 4096 * 4096,
            concurrent_decodes: 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayConfig {
    /// Development default: each message is written to the log as one line.
    Log,
    /// Kannel's smsbox `sendsms` interface.
    Kannel(propusk_sms::KannelConfig),
}

impl Default for Settings {
    /// A development service: port 8080 on loopback, SMS to the log, the limits of
    /// production.
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            max_in_flight: 1024,
            behind_tls: false,
            public_url: None,
            test_clock: false,
            gateway: GatewayConfig::Log,
            sms: SmsSettings::default(),
            monitoring: MonitoringSettings::default(),
            edge: EdgeSettings::default(),
            sign_in: SignInLimits::default(),
            login: LoginLimits::default(),
            photos: PhotoLimits::default(),
            service: ServiceInfo::default(),
        }
    }
}

/// Who runs the service and how people reach them, as the help, privacy and accessibility
/// pages show it. The texts left unset are the pages' own wording, in the reader's language;
/// a configured text is shown as written in both languages (a name, a legal reference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    /// The organisation that runs the service and answers for its data, e.g. «Департамент
    /// здравоохранения города Москвы». None: "the service's operator".
    pub operator: Option<String>,
    /// The number residents text for a pass (ПРОПУСК, ПОМОЩЬ …), as they should type it.
    pub sms_number: String,
    /// The telephone hotline, as people should dial it.
    pub hotline: String,
    /// Where to write: questions, accessibility problems, requests about one's data.
    pub email: String,
    /// The privacy notice's legal basis. None: the laws the service works under and the act
    /// of the regime in force.
    pub legal_basis: Option<String>,
}

impl Default for ServiceInfo {
    /// A development service's placeholders; `propusk serve` warns while they are in use.
    fn default() -> Self {
        Self {
            operator: None,
            sms_number: "7377".into(),
            hotline: "8 800 000-00-00".into(),
            email: "help@propusk.example".into(),
            legal_basis: None,
        }
    }
}

impl ServiceInfo {
    /// The longest operator name and legal-basis text accepted.
    pub const MAX_OPERATOR: usize = 200;
    pub const MAX_LEGAL_BASIS: usize = 4000;

    /// Every detail in a shape the pages can show and link: phone numbers of digits,
    /// spaces, `+ - ( )`; an address with one `@`; texts of bounded length with no control
    /// characters. The error names the setting and what is expected.
    pub fn check(&self) -> Result<(), String> {
        for (what, number) in [
            ("service.sms_number", &self.sms_number),
            ("service.hotline", &self.hotline),
        ] {
            let digits = number.chars().filter(char::is_ascii_digit).count();
            let shape = number
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'));
            if !shape || !(3..=15).contains(&digits) || number.len() > 24 {
                return Err(format!(
                    "{what} {number:?}: expected a phone number of 3 to 15 digits, \
                     optionally with spaces, '+', '-' and brackets, e.g. \"8 800 100-00-00\""
                ));
            }
        }
        let email_ok = match self.email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && self.email.len() <= 254
                    && self
                        .email
                        .chars()
                        .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\'))
            }
            None => false,
        };
        if !email_ok {
            return Err(format!(
                "service.email {:?}: expected an e-mail address, e.g. help@propusk.example",
                self.email
            ));
        }
        let text = |what: &str, value: &Option<String>, max: usize, newlines: bool| match value {
            Some(v) if v.trim().is_empty() || v.chars().count() > max => {
                Err(format!("{what}: expected 1 to {max} characters of text"))
            }
            Some(v)
                if v.chars()
                    .any(|c| c.is_control() && !(newlines && c == '\n')) =>
            {
                Err(format!("{what}: control characters are not allowed"))
            }
            _ => Ok(()),
        };
        text(
            "service.operator",
            &self.operator,
            Self::MAX_OPERATOR,
            false,
        )?;
        text(
            "service.legal_basis",
            &self.legal_basis,
            Self::MAX_LEGAL_BASIS,
            true,
        )?;
        Ok(())
    }

    /// A `tel:` link to the hotline (`+` and digits; a number written from 8 is dialled as is).
    pub fn hotline_href(&self) -> String {
        phone_href("tel:", &self.hotline)
    }

    /// An `sms:` link to the SMS number.
    pub fn sms_href(&self) -> String {
        phone_href("sms:", &self.sms_number)
    }

    /// Whether the details are still the development placeholders.
    pub fn is_placeholder(&self) -> bool {
        let d = Self::default();
        self.hotline == d.hotline || self.email == d.email
    }
}

fn phone_href(scheme: &str, number: &str) -> String {
    let plus = if number.trim_start().starts_with('+') {
        "+"
    } else {
        ""
    };
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    format!("{scheme}{plus}{digits}")
}

#[cfg(test)]
mod tests {
    use super::ServiceInfo;

    #[test]
    fn service_details_are_checked() {
        let ok = ServiceInfo::default();
        assert_eq!(ok.check(), Ok(()));
        assert_eq!(ok.hotline_href(), "tel:88000000000");
        assert_eq!(ok.sms_href(), "sms:7377");
        let intl = ServiceInfo {
            hotline: "+7 (495) 870-45-09".into(),
            ..ServiceInfo::default()
        };
        assert_eq!(intl.hotline_href(), "tel:+74958704509");
        for bad in [
            ServiceInfo {
                sms_number: "73 77; drop".into(),
                ..ServiceInfo::default()
            },
            ServiceInfo {
                hotline: "12".into(),
                ..ServiceInfo::default()
            },
            ServiceInfo {
                email: "help at example.org".into(),
                ..ServiceInfo::default()
            },
            ServiceInfo {
                email: "help@localhost".into(),
                ..ServiceInfo::default()
            },
            ServiceInfo {
                operator: Some("  ".into()),
                ..ServiceInfo::default()
            },
            ServiceInfo {
                operator: Some("x".repeat(201)),
                ..ServiceInfo::default()
            },
            ServiceInfo {
                legal_basis: Some("a\u{0}b".into()),
                ..ServiceInfo::default()
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
        let basis = ServiceInfo {
            legal_basis: Some("Указ № 1.\nПриказ № 2.".into()),
            ..ServiceInfo::default()
        };
        assert_eq!(basis.check(), Ok(()));
    }
}
