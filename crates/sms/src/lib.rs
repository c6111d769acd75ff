//! # propusk-sms: the SMS channel
//!
//! Everything about text messages that is not storage or HTTP routing:
//!
//! - [`grammar`]: what a resident's message asks for. A pure, forgiving parser: Russian and
//!   English, Cyrillic or Latin, any case, `*`, `#` or spaces between the parts, look-alike
//!   letters and typos in keywords (`ПРОПУСК 3`, `пропуск*3`, `PASS 3`, `3`, `ЦЕЛЬ 8`,
//!   `ОТМЕНА 7K3-QX9-4MM`, `СТАТУС`, `ПОМОЩЬ`, `РЕГИСТРАЦИЯ#Иванов Иван Иванович#4510123456`).
//! - [`registration`]: turning the parts of a registration message into a checked name and
//!   identity document, with the document's kind guessed from its form.
//! - [`reply`]: every answer propusk sends, in Russian and English, kept within one SMS
//!   segment where the content allows.
//! - [`monitoring`]: what a quarantined patient is told of each flag and each decision.
//! - [`encoding`]: GSM-7 or UCS-2 for a text, and how many segments it takes.
//! - [`charset`]: turning the bytes a gateway hands over (UTF-8, UTF-16BE, Windows-1251,
//!   Latin-1) into text.
//! - [`gateway`]: the [`Gateway`] trait the outbox worker sends through, and the development
//!   [`LogGateway`]; [`kannel`]: the Kannel `sendsms` client.
//!
//! What it is not: it keeps no state and opens no database. The server records inbound
//! messages, decides with the core, writes the reply to the outbox in the same transaction,
//! and its worker hands the outbox to a [`Gateway`].

pub mod charset;
pub mod encoding;
pub mod gateway;
pub mod grammar;
pub mod kannel;
mod lang;
pub mod monitoring;
mod normalize;
pub mod registration;
pub mod reply;

pub use encoding::{Encoding, Segments};
pub use gateway::{Gateway, LogGateway, Outgoing, SendError};
pub use grammar::{parse, Command, Parsed, PassAsk};
pub use kannel::{KannelConfig, KannelGateway};
pub use lang::Lang;
