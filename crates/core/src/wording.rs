//! What a text shown to people must not contain: the check the wording tests run over every
//! refusal and error message (this crate's, in `wording/every_error.rs`, and the server's
//! page texts in its own tests).
//!
//! A message is written for the person reading it: no identifiers (snake_case names such as
//! `employer_inn`, time-zone ids such as `Europe/Moscow`, code in backticks), no raw value
//! dumps (`"…"` and `'…'` in straight quotes, `Some(…)`, leftover `{…}` placeholders), no
//! doubled or stray punctuation (`..`, `.;`, a space before a comma), and every sentence
//! begins with a capital letter and the message ends with a full stop (or `!`, `?`).
//! Input the person typed may be quoted back, in «…» or “…”.

use crate::Lang;

/// Abbreviations after which a lower-case word does not begin a sentence.
const ABBREVIATIONS: [&str; 8] = [
    "e.g.", "i.e.", "etc.", "т.е.", "т. е.", "т. д.", "г.", "ул.",
];

/// Every problem with `text` as a message in `lang` (whole sentences); empty when it reads
/// well.
pub fn problems(text: &str, lang: Lang) -> Vec<String> {
    let mut found = stray_marks(text, lang);
    let mut say = |what: &str| found.push(format!("{what} in {:?} ({})", text, lang.code()));
    if text
        .chars()
        .find(|c| c.is_alphabetic())
        .is_some_and(char::is_lowercase)
    {
        say("a first sentence beginning in lower case");
    }
    let end = text.trim_end().trim_end_matches(['»', '”', ')']);
    if !end.ends_with(['.', '!', '?', '…']) {
        say("no full stop at the end");
    }
    found
}

/// The problems a text of any shape (a label, a heading, part of a sentence) must not have
/// either: identifiers, raw values, stray punctuation, a sentence inside it beginning in
/// lower case.
pub fn stray_marks(text: &str, lang: Lang) -> Vec<String> {
    let mut found = Vec::new();
    let mut say = |what: String| found.push(format!("{what} in {:?} ({})", text, lang.code()));
    for word in text.split(|c: char| c.is_whitespace() || "«»“”(),;:".contains(c)) {
        let word = word.trim_end_matches(['.', '!', '?']);
        if is_snake_case(word) {
            say(format!("the identifier {word}"));
        }
        if is_zone_id(word) {
            say(format!("the time-zone id {word}"));
        }
    }
    for (needle, what) in [
        ("`", "code in backticks"),
        ("\"", "a straight double quote (a raw value)"),
        ("Some(", "a raw Option"),
        ("{", "a placeholder brace"),
        ("}", "a placeholder brace"),
        (".;", "a full stop before a semicolon"),
        (".,", "a full stop before a comma"),
        (".:", "a full stop before a colon"),
        (";.", "a semicolon before a full stop"),
        (",.", "a comma before a full stop"),
        (":.", "a colon before a full stop"),
        (" .", "a space before a full stop"),
        (" ,", "a space before a comma"),
        (" ;", "a space before a semicolon"),
        ("!.", "a full stop after !"),
        ("?.", "a full stop after ?"),
    ] {
        if text.contains(needle) {
            say(what.to_string());
        }
    }
    if text.replace("...", "…").contains("..") {
        say("a double full stop".to_string());
    }
    if has_straight_single_quotes(text) {
        say("a value in straight single quotes (a raw value)".to_string());
    }
    for (i, _) in text.match_indices(['.', '!', '?']) {
        let after = &text[i + 1..];
        let Some(rest) = after.strip_prefix(' ') else {
            continue;
        };
        let before = &text[..=i];
        if ABBREVIATIONS.iter().any(|a| before.ends_with(a)) {
            continue;
        }
        if rest.chars().next().is_some_and(char::is_lowercase) {
            say("a sentence beginning in lower case".to_string());
        }
    }
    found
}

/// `employer_inn`, `passport_ru`: letters or digits joined by underscores.
fn is_snake_case(word: &str) -> bool {
    word.contains('_')
        && word
            .split('_')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// `Europe/Moscow`, `America/New_York`: a capitalised region, a slash, a capitalised place.
fn is_zone_id(word: &str) -> bool {
    let Some((area, place)) = word.split_once('/') else {
        return false;
    };
    let capitalised = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && s.chars()
                .all(|c| c.is_ascii_alphabetic() || "_-/".contains(c))
    };
    capitalised(area) && capitalised(place)
}

/// `'x'` or `'45 10'` in straight quotes (Debug output of a char), not an apostrophe
/// ("employer's").
fn has_straight_single_quotes(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().any(|(i, c)| {
        *c == '\'' && (i == 0 || !chars[i - 1].is_alphanumeric()) && chars[i + 1..].contains(&'\'')
    })
}

#[cfg(test)]
mod every_error;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_finds_what_the_issue_found() {
        for bad in [
            "Нужно указать ИНН работодателя (поле employer_inn).",
            "passport_ru number \"45 10 12\" is malformed",
            "Следующий пропуск можно с 16.04.2020 10:00 (Europe/Moscow).",
            "Не более чем на 180 мин.; запрошено 200 мин.",
            "Оплатите 4000 руб..",
            "the INN is empty.",
            "The pass is ready. it starts now.",
            "The name contains 'x'.",
            "Hello { $name }.",
            "No full stop",
        ] {
            assert!(!problems(bad, Lang::En).is_empty(), "{bad}");
        }
        for good in [
            "Номер «45 10 12» не похож на номер паспорта; нужно 10 цифр, например 4510 123456.",
            "The employer's INN has 9 digits; it must have 10, e.g. 7707083893.",
            "Time 2020-04-16 10:00 UTC is past. Ask again.",
            "Пропуск действует до 22:00 (по местному времени).",
        ] {
            assert_eq!(problems(good, Lang::En), Vec::<String>::new(), "{good}");
        }
    }
}
