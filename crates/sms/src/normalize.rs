//! The small text tools the grammar is built from: splitting a message into words, folding
//! look-alike letters of the two alphabets onto each other, and counting typos.

/// One word of a message and where it is in the original text (byte offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    /// The word with surrounding punctuation removed, in the original case.
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
}

/// Characters that separate the parts of a message. `*` and `#` are what the 2020 short
/// numbers asked for (`Пропуск*…`, `РЕГИСТРАЦИЯ#…`); the rest are what people type instead.
pub(crate) fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '*' | '#' | ',' | ';' | '+' | '/' | '\\' | '|' | '=' | '_'
        )
}

/// Splits a message into words at separators, trimming punctuation and symbols (emoji,
/// quotes, `№`, a final `.` or `!`) from each end and dropping words left empty.
pub(crate) fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (start, is_separator(c)) {
            (None, false) => start = Some(i),
            (Some(s), true) => {
                push_trimmed(&mut out, text, s, i);
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn push_trimmed<'a>(out: &mut Vec<Token<'a>>, text: &'a str, start: usize, end: usize) {
    let word = &text[start..end];
    let keep = |c: char| c.is_alphanumeric();
    let Some(first) = word.find(keep) else {
        return;
    };
    let last = word
        .char_indices()
        .rev()
        .find(|(_, c)| keep(*c))
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(word.len());
    out.push(Token {
        text: &word[first..last],
        start: start + first,
        end: start + last,
    });
}

/// Upper case, `Ё` as `Е`.
pub(crate) fn upper(s: &str) -> String {
    s.chars()
        .flat_map(char::to_uppercase)
        .map(|c| if c == 'Ё' { 'Е' } else { c })
        .collect()
}

/// The word read as Cyrillic: Latin letters that look like Cyrillic ones (phones switch
/// keyboards mid-word: `ПPОПУСК`, `CTATYC`) and a `0` or `3` between letters (`ПР0ПУСК`).
/// Expects upper case.
pub(crate) fn as_cyrillic(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        let between_letters = i > 0
            && i + 1 < chars.len()
            && chars[i - 1].is_alphabetic()
            && chars[i + 1].is_alphabetic();
        out.push(match c {
            'A' => 'А',
            'B' => 'В',
            'C' => 'С',
            'E' => 'Е',
            'H' => 'Н',
            'K' => 'К',
            'M' => 'М',
            'O' => 'О',
            'P' => 'Р',
            'T' => 'Т',
            'X' => 'Х',
            'Y' => 'У',
            '0' if between_letters => 'О',
            '3' if between_letters => 'З',
            c => c,
        });
    }
    out
}

/// The word read as Latin: Cyrillic letters that look like Latin ones. Expects upper case.
pub(crate) fn as_latin(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        let between_letters = i > 0
            && i + 1 < chars.len()
            && chars[i - 1].is_alphabetic()
            && chars[i + 1].is_alphabetic();
        out.push(match c {
            'А' => 'A',
            'В' => 'B',
            'С' => 'C',
            'Е' => 'E',
            'Н' => 'H',
            'К' => 'K',
            'М' => 'M',
            'О' => 'O',
            'Р' => 'P',
            'Т' => 'T',
            'Х' => 'X',
            'У' => 'Y',
            '0' if between_letters => 'O',
            c => c,
        });
    }
    out
}

pub(crate) fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{04FF}')
}

/// Which alphabet a text is mostly written in, if it has letters at all.
pub(crate) fn mostly_cyrillic(s: &str) -> Option<bool> {
    let (cyr, lat) = s.chars().fold((0, 0), |(cyr, lat), c| {
        if is_cyrillic(c) {
            (cyr + 1, lat)
        } else if c.is_ascii_alphabetic() {
            (cyr, lat + 1)
        } else {
            (cyr, lat)
        }
    });
    match (cyr, lat) {
        (0, 0) => None,
        (c, l) => Some(c >= l),
    }
}

/// Typos are counted as edits: a letter missing, extra, wrong, or two neighbours swapped
/// (optimal string alignment distance). Stops early beyond `limit`.
pub(crate) fn edit_distance(a: &str, b: &str, limit: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return limit + 1;
    }
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

/// How many typos a keyword of this length tolerates: none in short words (where one edit
/// makes another word), one in most, two in long ones.
pub(crate) fn tolerance(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&str> {
        tokens(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn splits_at_every_separator_and_trims_symbols() {
        assert_eq!(words("ПРОПУСК*3"), ["ПРОПУСК", "3"]);
        assert_eq!(words("  пропуск   #3# "), ["пропуск", "3"]);
        assert_eq!(words("Пропуск №3!"), ["Пропуск", "3"]);
        assert_eq!(words("«ПРОПУСК» 3 🙏"), ["ПРОПУСК", "3"]);
        assert_eq!(words("7K3-QX9-4MM"), ["7K3-QX9-4MM"]);
        assert_eq!(words("18:30."), ["18:30"]);
        assert!(words("🙂 🙂 ***").is_empty());
        let t = &tokens("РЕГ#Иванов Иван")[1];
        assert_eq!((t.start, t.end), (7, 19));
    }

    #[test]
    fn look_alikes_fold_both_ways() {
        assert_eq!(as_cyrillic("ПPОПУСК"), "ПРОПУСК");
        assert_eq!(as_cyrillic("CTATYC"), "СТАТУС");
        assert_eq!(as_cyrillic("ПР0ПУСК"), "ПРОПУСК");
        assert_eq!(as_cyrillic("ПРОПУСК3"), "ПРОПУСК3");
        assert_eq!(as_latin("РАSS"), "PASS");
        assert_eq!(as_latin("НЕLР"), "HELP");
        assert_eq!(upper("ёлка"), "ЕЛКА");
    }

    #[test]
    fn typos() {
        assert_eq!(edit_distance("ПРОПУСК", "ПРОПУСК", 2), 0);
        assert_eq!(edit_distance("ПРОПУК", "ПРОПУСК", 2), 1);
        assert_eq!(edit_distance("ПРОПСУК", "ПРОПУСК", 2), 1);
        assert_eq!(edit_distance("ПРАПУСК", "ПРОПУСК", 2), 1);
        assert_eq!(edit_distance("ПРОПУСКА", "ПРОПУСК", 2), 1);
        assert!(edit_distance("ОТМЕНА", "ПРОПУСК", 2) > 2);
        assert_eq!(mostly_cyrillic("PASS 3"), Some(false));
        assert_eq!(mostly_cyrillic("пропуск 3"), Some(true));
        assert_eq!(mostly_cyrillic("3"), None);
    }
}
