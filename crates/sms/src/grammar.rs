//! What a resident's text message asks for.
//!
//! [`parse`] is a pure function from the text to a [`Parsed`] command. It never fails: what
//! it cannot read is [`Command::Unknown`] (or [`Command::Empty`]), and the server answers
//! those with a short note saying what is expected — a message is never met with silence.
//!
//! # The grammar
//!
//! ```text
//! message   = [filler…] keyword [sep] rest  |  code [sep fields]  |  short-code  |  "?"
//! keyword   = ПРОПУСК | ЦЕЛЬ | PASS | PERMIT | PROPUSK          → a pass
//!           | ОТМЕНА | ОТМЕНИТЬ | CANCEL | OTMENA                → cancel a pass by its code
//!           | СТАТУС | STATUS                                    → my passes
//!           | ПОМОЩЬ | СПРАВКА | HELP | INFO | POMOSCH | "?"     → the purpose codes
//!           | РЕГИСТРАЦИЯ | РЕГ | REGISTER | REG | REGISTRACIYA  → register by SMS
//! sep       = spaces, "*", "#", ",", ";", "+", "/", "|", "=", "_"  (any number of them)
//! ```
//!
//! Forgiveness, in the order it is applied to the first words:
//!
//! - **Case and `Ё`**: compared in upper case, `Ё` as `Е`.
//! - **Look-alike letters**: a word is read both as Cyrillic (Latin `A B C E H K M O P T X Y`,
//!   and `0`/`3` between letters, as the Cyrillic letters they look like) and as Latin (the
//!   reverse), because phones switch keyboards mid-word: `ПPОПУСК`, `CTATYC`, `ПР0ПУСК`.
//! - **Typos**: a keyword matches with one wrong, missing, extra or swapped letter (two in
//!   keywords of eight letters or more, none in keywords of three): `ПРОПУК`, `ПРОПСУК`,
//!   `ПОМОШЬ`, `РЕГИСТРАЦИЯ` as `РИГИСТРАЦИЯ`.
//! - **Glued parts**: `ПРОПУСК3`, `пропуск-3`, `pass#3`.
//! - **Politeness**: a few leading words such as `Здравствуйте`, `пожалуйста`, `дайте`,
//!   `please` are skipped.
//! - **Bare codes**: a message that starts with a purpose code (`3`, `1*7707083893`) asks for
//!   a pass; one that is only a short code (`7K3-QX9-4MM`) asks about that pass.
//!
//! After a pass keyword: the purpose code (digits or a Russian number word), optionally a
//! start time `HH:MM`, and the purpose's fields in order (`ПРОПУСК*1*7707083893`). With no
//! code, the remaining words may name the purpose (`ПРОПУСК магазин`).
//!
//! After a registration keyword: name, identity document and (optionally) home address,
//! separated by `#` or `*`; or, with spaces only, the name is the words before the first one
//! holding a digit, the document the words with digits that follow, the address the rest.
//!
//! The language of the reply follows the keyword (`PASS` → English, `ПРОПУСК` or the
//! transliterated `PROPUSK` → Russian), else the alphabet of the message; a bare number
//! carries none, and the server uses the resident's own.

use propusk_token::ShortCode;

use crate::normalize::{
    as_cyrillic, as_latin, edit_distance, is_separator, mostly_cyrillic, tokens, tolerance, upper,
    Token,
};
use crate::Lang;

/// What the message asks for, and in which language to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub command: Command,
    /// The sender's language, when the message shows it.
    pub lang: Option<Lang>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A pass request.
    Pass(PassAsk),
    /// Cancel the pass with this short code (as typed: letters and digits only, not yet
    /// checked), or None when the code is missing.
    Cancel { code: Option<String> },
    /// The sender's current and upcoming passes.
    Status,
    /// The purpose codes of the regime in force and the commands.
    Help,
    /// Register by SMS: the parts as written — name, document, address — in that order when
    /// they can be told apart.
    Register { fields: Vec<String> },
    /// A message that is only a short code: the sender asks about that pass.
    ShortCode(ShortCode),
    /// Nothing but blanks.
    Empty,
    /// Anything else.
    Unknown,
}

/// A pass request as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PassAsk {
    /// The purpose's SMS code; None when the message gives none.
    pub code: Option<u32>,
    /// With no code: the words that might name the purpose (`магазин`), upper case.
    pub words: Vec<String>,
    /// Further values in order, for the purpose's required fields (`7707083893`).
    pub fields: Vec<String>,
    /// A local start time, `HH:MM`.
    pub start: Option<(u8, u8)>,
    /// Whether a keyword introduced the request (false for a bare `3`).
    pub keyword: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Pass,
    Cancel,
    Status,
    Help,
    Register,
}

const CYRILLIC_KEYWORDS: &[(&str, Keyword)] = &[
    ("ПРОПУСК", Keyword::Pass),
    ("ЦЕЛЬ", Keyword::Pass),
    ("ОТМЕНА", Keyword::Cancel),
    ("ОТМЕНИТЬ", Keyword::Cancel),
    ("СТАТУС", Keyword::Status),
    ("ПОМОЩЬ", Keyword::Help),
    ("СПРАВКА", Keyword::Help),
    ("ПОМОГИТЕ", Keyword::Help),
    ("РЕГИСТРАЦИЯ", Keyword::Register),
    ("РЕГ", Keyword::Register),
];

/// Latin keywords, with the language they show (None: both languages use it).
const LATIN_KEYWORDS: &[(&str, Keyword, Option<Lang>)] = &[
    ("PASS", Keyword::Pass, Some(Lang::En)),
    ("PERMIT", Keyword::Pass, Some(Lang::En)),
    ("PROPUSK", Keyword::Pass, Some(Lang::Ru)),
    ("TSEL", Keyword::Pass, Some(Lang::Ru)),
    ("CANCEL", Keyword::Cancel, Some(Lang::En)),
    ("OTMENA", Keyword::Cancel, Some(Lang::Ru)),
    ("STATUS", Keyword::Status, None),
    ("HELP", Keyword::Help, Some(Lang::En)),
    ("INFO", Keyword::Help, None),
    ("POMOSCH", Keyword::Help, Some(Lang::Ru)),
    ("POMOSHCH", Keyword::Help, Some(Lang::Ru)),
    ("SPRAVKA", Keyword::Help, Some(Lang::Ru)),
    ("REGISTER", Keyword::Register, Some(Lang::En)),
    ("REGISTRATION", Keyword::Register, Some(Lang::En)),
    ("REG", Keyword::Register, None),
    ("REGISTRACIYA", Keyword::Register, Some(Lang::Ru)),
    ("REGISTRATSIYA", Keyword::Register, Some(Lang::Ru)),
];

/// Words people put before the keyword, skipped (compared after reading as Cyrillic or
/// Latin, exactly).
const FILLERS: &[&str] = &[
    "ЗДРАВСТВУЙТЕ",
    "ПРИВЕТ",
    "ДОБРЫЙ",
    "ДОБРОЕ",
    "ДЕНЬ",
    "ВЕЧЕР",
    "УТРО",
    "ПОЖАЛУЙСТА",
    "ПРОШУ",
    "ДАЙТЕ",
    "ВЫДАЙТЕ",
    "НУЖЕН",
    "НУЖНА",
    "МНЕ",
    "ХОЧУ",
    "ПОЛУЧИТЬ",
    "ОФОРМИТЬ",
    "Я",
    "HI",
    "HELLO",
    "PLEASE",
    "I",
    "NEED",
    "WANT",
    "GET",
    "GIVE",
    "ME",
    "A",
];

/// Words between a pass keyword and the purpose that carry no meaning.
const STOP_WORDS: &[&str] = &["НА", "ДЛЯ", "В", "ВО", "ЦЕЛЬ", "FOR", "TO", "THE", "A"];

const NUMBER_WORDS: &[(&str, u32)] = &[
    ("ОДИН", 1),
    ("ОДНА", 1),
    ("ДВА", 2),
    ("ТРИ", 3),
    ("ЧЕТЫРЕ", 4),
    ("ПЯТЬ", 5),
    ("ШЕСТЬ", 6),
    ("СЕМЬ", 7),
    ("ВОСЕМЬ", 8),
    ("ДЕВЯТЬ", 9),
    ("ONE", 1),
    ("TWO", 2),
    ("THREE", 3),
    ("FOUR", 4),
    ("FIVE", 5),
    ("SIX", 6),
    ("SEVEN", 7),
    ("EIGHT", 8),
    ("NINE", 9),
];

/// Reads a message. See the module documentation for the grammar.
pub fn parse(text: &str) -> Parsed {
    let script_lang = mostly_cyrillic(text).map(|cyr| if cyr { Lang::Ru } else { Lang::En });
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Parsed {
            command: Command::Empty,
            lang: None,
        };
    }
    if trimmed.chars().all(|c| c == '?' || c.is_whitespace()) {
        return Parsed {
            command: Command::Help,
            lang: None,
        };
    }
    let words = tokens(text);
    if words.is_empty() {
        return Parsed {
            command: Command::Unknown,
            lang: script_lang,
        };
    }

    // A bare purpose code: `3`, `1*7707083893`, `3 18:30`.
    let first = words[0].text;
    if first.len() <= 2 && first.chars().all(|c| c.is_ascii_digit()) {
        let ask = pass_ask(&owned(&words), false);
        return Parsed {
            command: Command::Pass(ask),
            lang: script_lang,
        };
    }

    let skip = words.iter().take_while(|w| is_filler(w.text)).count();
    if let Some(found) = find_keyword(&words[skip.min(words.len() - 1)..]) {
        let lang = found.lang.or(script_lang);
        let rest = &found.rest;
        let command = match found.keyword {
            Keyword::Pass => Command::Pass(pass_ask(rest, true)),
            Keyword::Cancel => {
                let code: String = rest
                    .iter()
                    .flat_map(|w| w.chars())
                    .filter(|c| c.is_alphanumeric())
                    .collect();
                Command::Cancel {
                    code: (!code.is_empty()).then_some(code),
                }
            }
            Keyword::Status => Command::Status,
            Keyword::Help => Command::Help,
            Keyword::Register => Command::Register {
                fields: register_fields(&text[found.end..]),
            },
        };
        return Parsed { command, lang };
    }

    // Only a short code: `7K3-QX9-4MM`, `7к3 qx9 4мм`.
    let joined: String = words.iter().map(|w| w.text).collect();
    if words.len() <= 3 && joined.chars().any(|c| c.is_ascii_digit()) {
        if let Ok(code) = joined.parse::<ShortCode>() {
            // A code's letters say nothing about the sender's language.
            return Parsed {
                command: Command::ShortCode(code),
                lang: None,
            };
        }
    }
    Parsed {
        command: Command::Unknown,
        lang: script_lang,
    }
}

fn owned(words: &[Token<'_>]) -> Vec<String> {
    words.iter().map(|w| w.text.to_string()).collect()
}

fn is_filler(word: &str) -> bool {
    let up = upper(word);
    let (cyr, lat) = (as_cyrillic(&up), as_latin(&up));
    FILLERS.iter().any(|f| *f == cyr || *f == lat)
}

struct Found {
    keyword: Keyword,
    lang: Option<Lang>,
    /// The words after the keyword (a glued code split off).
    rest: Vec<String>,
    /// Where the keyword ends in the text.
    end: usize,
}

/// The keyword at the start of `words`: the first word, the first word's leading letters
/// (`ПРОПУСК3`), or the first two words joined (`ПРО ПУСК`).
fn find_keyword(words: &[Token<'_>]) -> Option<Found> {
    let first = words.first()?;
    if let Some((keyword, lang)) = keyword(first.text) {
        return Some(Found {
            keyword,
            lang,
            rest: owned(&words[1..]),
            end: first.end,
        });
    }
    // Letters glued to what follows: `ПРОПУСК3`, `пропуск-3`, `PASS.3`.
    let letters_end = first
        .text
        .char_indices()
        .find(|(_, c)| !c.is_alphabetic())
        .map_or(first.text.len(), |(i, _)| i);
    if letters_end > 0 && letters_end < first.text.len() {
        if let Some((keyword, lang)) = keyword(&first.text[..letters_end]) {
            let tail = first.text[letters_end..].trim_start_matches(|c: char| !c.is_alphanumeric());
            let mut rest = Vec::new();
            if !tail.is_empty() {
                rest.push(tail.to_string());
            }
            rest.extend(owned(&words[1..]));
            return Some(Found {
                keyword,
                lang,
                rest,
                end: first.start + letters_end,
            });
        }
    }
    // A keyword broken by a space: `ПРО ПУСК 3`.
    let second = words.get(1)?;
    let alphabetic = |w: &str| w.chars().all(char::is_alphabetic);
    if alphabetic(first.text) && alphabetic(second.text) && first.text.chars().count() >= 2 {
        if let Some((keyword, lang)) = keyword(&format!("{}{}", first.text, second.text)) {
            return Some(Found {
                keyword,
                lang,
                rest: owned(&words[2..]),
                end: second.end,
            });
        }
    }
    None
}

/// Which keyword a word is, with the language it shows.
fn keyword(word: &str) -> Option<(Keyword, Option<Lang>)> {
    // Digits may stand for look-alike letters inside a word, never at its end (`ПРОПУСК3`
    // is a keyword glued to a code).
    if word.is_empty()
        || !word.chars().all(|c| c.is_alphanumeric())
        || word.ends_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    let up = upper(word);
    let (cyr, lat) = (as_cyrillic(&up), as_latin(&up));
    let cyrillic_first = mostly_cyrillic(&up).unwrap_or(false);
    let mut best: Option<(usize, u8, Keyword, Option<Lang>)> = None;
    let mut consider = |distance: usize, rank: u8, kw: Keyword, lang: Option<Lang>| {
        if best.is_none_or(|(d, r, ..)| (distance, rank) < (d, r)) {
            best = Some((distance, rank, kw, lang));
        }
    };
    for &(k, kw) in CYRILLIC_KEYWORDS {
        let d = edit_distance(&cyr, k, tolerance(k.chars().count()));
        if d <= tolerance(k.chars().count()) {
            consider(d, u8::from(!cyrillic_first), kw, Some(Lang::Ru));
        }
    }
    for &(k, kw, lang) in LATIN_KEYWORDS {
        let d = edit_distance(&lat, k, tolerance(k.len()));
        if d <= tolerance(k.len()) {
            consider(d, u8::from(cyrillic_first), kw, lang);
        }
    }
    best.map(|(_, _, kw, lang)| (kw, lang))
}

/// A number typed as digits (`3`, `03`) or as a word (`три`, `three`).
fn number(word: &str) -> Option<u32> {
    if !word.is_empty() && word.len() <= 9 && word.chars().all(|c| c.is_ascii_digit()) {
        return word.parse().ok();
    }
    let up = as_cyrillic(&upper(word));
    let lat = as_latin(&upper(word));
    NUMBER_WORDS
        .iter()
        .find(|(w, _)| *w == up || *w == lat)
        .map(|(_, n)| *n)
}

/// `18:30`, `18.30`, `9-00`.
fn time(word: &str) -> Option<(u8, u8)> {
    let (h, m) = word.split_once([':', '.', '-'])?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

fn pass_ask(words: &[String], keyword: bool) -> PassAsk {
    let mut ask = PassAsk {
        keyword,
        ..PassAsk::default()
    };
    for word in words {
        if let Some(t) = time(word).filter(|_| ask.start.is_none()) {
            ask.start = Some(t);
            continue;
        }
        if ask.code.is_none() && ask.fields.is_empty() {
            if let Some(n) = number(word)
                .filter(|_| word.len() <= 2 || !word.chars().all(|c| c.is_ascii_digit()))
            {
                ask.code = Some(n);
                continue;
            }
            let up = upper(word);
            if word.chars().all(char::is_alphabetic) {
                if !STOP_WORDS.contains(&up.as_str()) {
                    ask.words.push(up);
                }
                continue;
            }
        }
        ask.fields.push(word.clone());
    }
    ask
}

/// Splits what follows a registration keyword into name, document, address.
fn register_fields(rest: &str) -> Vec<String> {
    let rest =
        rest.trim_start_matches(|c: char| is_separator(c) || c == ':' || c == '-' || c == '.');
    if rest.contains(['#', '*']) {
        let parts: Vec<String> = rest
            .split(['#', '*'])
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .map(|p| {
                p.trim_matches(|c: char| c == ',' || c == ';' || c == '.')
                    .trim()
                    .to_string()
            })
            .filter(|p| !p.is_empty())
            .collect();
        return order_fields(parts);
    }
    // Spaces only: the name is the words before the first one with a digit (or a birth
    // certificate series), the document the words with digits after it, the address the rest.
    let words: Vec<&str> = rest
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|w| !w.is_empty())
        .collect();
    let name_len = words
        .iter()
        .position(|w| w.chars().any(|c| c.is_ascii_digit()) || is_certificate_series(w))
        .unwrap_or(words.len());
    let doc_len = words[name_len..]
        .iter()
        .take_while(|w| w.chars().any(|c| c.is_ascii_digit()) || is_certificate_series(w))
        .count();
    let mut fields = Vec::new();
    for part in [
        &words[..name_len],
        &words[name_len..name_len + doc_len],
        &words[name_len + doc_len..],
    ] {
        if !part.is_empty() {
            fields.push(part.join(" "));
        }
    }
    fields
}

/// Puts the name first and the document second when they were written the other way round
/// (`РЕГ#4510123456#Иванов Иван`).
fn order_fields(mut parts: Vec<String>) -> Vec<String> {
    let has_digit = |s: &String| s.chars().any(|c| c.is_ascii_digit());
    if parts.len() >= 2 && has_digit(&parts[0]) && !has_digit(&parts[1]) {
        parts.swap(0, 1);
    }
    parts
}

/// A birth certificate series such as `IV-МЮ`: Roman numerals, a dash, two letters.
pub(crate) fn is_certificate_series(word: &str) -> bool {
    let Some((roman, letters)) = word.split_once('-') else {
        return false;
    };
    !roman.is_empty()
        && roman.chars().all(|c| {
            matches!(
                c,
                'I' | 'V' | 'X' | 'L' | 'C' | 'i' | 'v' | 'x' | 'l' | 'c' | 'І' | 'Х' | 'С' | '1'
            )
        })
        && letters.chars().count() == 2
        && letters.chars().all(char::is_alphabetic)
}

#[cfg(test)]
#[path = "grammar_tests.rs"]
mod tests;
