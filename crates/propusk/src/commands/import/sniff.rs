//! What kind of file was given, judged from its first bytes before anything is imported: a
//! spreadsheet, a PDF or other binary file, UTF-16 text, or text in a legacy Cyrillic
//! encoding is refused as a whole, with what to do instead. Only UTF-8 text goes on (a byte
//! order mark is allowed and skipped).

use propusk_core::Localized;

/// How many bytes are looked at.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// Why a file cannot be imported at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    Empty,
    /// A ZIP container: an Excel or LibreOffice workbook.
    Spreadsheet,
    Pdf,
    /// NUL bytes or other binary content.
    Binary,
    Utf16,
    /// Cyrillic text in Windows-1251 (Excel's "CSV" on Russian Windows).
    Windows1251,
    /// Not UTF-8, and not recognisably Windows-1251 either.
    NotUtf8,
}

impl FileProblem {
    pub fn message(&self, file: &str) -> Localized {
        let convert = format!("iconv -f WINDOWS-1251 -t UTF-8 {file} > {file}.utf8.csv");
        match self {
            Self::Empty => Localized::new(
                "Файл пуст: нужна первая строка с названиями столбцов и строки реестра.",
                "The file is empty: expected a header line naming the columns, then the registry's rows.",
            ),
            Self::Spreadsheet => Localized::new(
                "Это книга Excel или LibreOffice (XLSX/ODS), а не CSV. Сохраните лист как «CSV UTF-8 (разделитель — запятая)».",
                "This is an Excel or LibreOffice workbook (XLSX/ODS), not CSV. Save the sheet as \"CSV UTF-8 (comma delimited)\".",
            ),
            Self::Pdf => Localized::new(
                "Это PDF-документ, а не CSV. Нужна выгрузка реестра в CSV (UTF-8).",
                "This is a PDF document, not CSV. Export the registry as CSV (UTF-8).",
            ),
            Self::Binary => Localized::new(
                "Это двоичный файл, а не текст CSV. Нужна выгрузка реестра в CSV (UTF-8).",
                "This is a binary file, not CSV text. Export the registry as CSV (UTF-8).",
            ),
            Self::Utf16 => Localized::new(
                "Файл в кодировке UTF-16. Сохраните его в UTF-8 (в Excel: «CSV UTF-8»).",
                "The file is UTF-16. Save it as UTF-8 (in Excel: \"CSV UTF-8\").",
            ),
            Self::Windows1251 => Localized::new(
                format!("Файл в кодировке Windows-1251, а нужна UTF-8. Перекодируйте его: {convert}, или в Excel сохраните как «CSV UTF-8»."),
                format!("The file is in Windows-1251, not UTF-8. Convert it: {convert}, or in Excel save as \"CSV UTF-8\"."),
            ),
            Self::NotUtf8 => Localized::new(
                "Файл не в кодировке UTF-8. Сохраните его в UTF-8 (например, iconv -t UTF-8).",
                "The file is not UTF-8. Save it as UTF-8 (with iconv -t UTF-8, for example).",
            ),
        }
    }
}

/// Judges the file from its first bytes (up to [`SNIFF_BYTES`]); `complete` says whether
/// they are the whole file. Returns how many bytes to skip (a UTF-8 byte order mark).
pub fn sniff(head: &[u8], complete: bool) -> Result<usize, FileProblem> {
    if head.is_empty() {
        return Err(FileProblem::Empty);
    }
    if head.starts_with(b"PK\x03\x04") {
        return Err(FileProblem::Spreadsheet);
    }
    if head.starts_with(b"%PDF") {
        return Err(FileProblem::Pdf);
    }
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(FileProblem::Utf16);
    }
    let bom = if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let text = &head[bom..];
    if text.is_empty() {
        return Err(FileProblem::Empty);
    }
    if text.contains(&0) {
        // UTF-16 without a byte order mark has a NUL in every other byte of Latin text.
        let odd_nuls = text.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
        return Err(if odd_nuls * 10 >= (text.len() / 2) * 9 {
            FileProblem::Utf16
        } else {
            FileProblem::Binary
        });
    }
    match std::str::from_utf8(text) {
        Ok(_) => Ok(bom),
        // A character cut at the end of the sample is not an error.
        Err(e) if e.error_len().is_none() && !complete => Ok(bom),
        Err(_) if looks_windows_1251(text) => Err(FileProblem::Windows1251),
        Err(_) => Err(FileProblem::NotUtf8),
    }
}

/// Whether bytes that are not UTF-8 read as Russian text in Windows-1251: nearly all bytes
/// above 0x7F are its Cyrillic letters (0xC0–0xFF, Ё 0xA8, ё 0xB8); they come in runs, as
/// the letters of Russian words do (an accented letter in Latin-1 text stands alone among
/// ASCII ones); and lower case (0xE0–0xFF) outnumbers upper case, as in names and
/// addresses (KOI8-R, the other legacy Cyrillic encoding, has its lower case at 0xC0–0xDF).
pub fn looks_windows_1251(bytes: &[u8]) -> bool {
    let high = |i: usize| bytes.get(i).is_some_and(|b| *b >= 0x80);
    let (mut total, mut letters, mut lower, mut in_runs) = (0, 0, 0, 0);
    for (i, &b) in bytes.iter().enumerate() {
        if b < 0x80 {
            continue;
        }
        total += 1;
        letters += usize::from(b >= 0xC0 || b == 0xA8 || b == 0xB8);
        lower += usize::from(b >= 0xE0 || b == 0xB8);
        in_runs += usize::from((i > 0 && high(i - 1)) || high(i + 1));
    }
    total > 0 && letters * 10 >= total * 9 && in_runs * 2 >= total && lower * 2 > letters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_text_passes_and_a_bom_is_skipped() {
        assert_eq!(sniff("phone,full_name\n".as_bytes(), true), Ok(0));
        assert_eq!(sniff("\u{feff}phone\nИванов".as_bytes(), true), Ok(3));
        // A sample ending inside a character.
        let text = "Иванов".as_bytes();
        assert_eq!(sniff(&text[..text.len() - 1], false), Ok(0));
        assert_eq!(
            sniff(&text[..text.len() - 1], true),
            Err(FileProblem::NotUtf8)
        );
    }

    #[test]
    fn other_files_are_named() {
        assert_eq!(sniff(b"", true), Err(FileProblem::Empty));
        assert_eq!(
            sniff(b"PK\x03\x04\x14\x00", true),
            Err(FileProblem::Spreadsheet)
        );
        assert_eq!(sniff(b"%PDF-1.7\n", true), Err(FileProblem::Pdf));
        assert_eq!(sniff(&[0xFF, 0xFE, b'p', 0], true), Err(FileProblem::Utf16));
        assert_eq!(sniff(b"p\0h\0o\0n\0e\0,\0", true), Err(FileProblem::Utf16));
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", true),
            Err(FileProblem::Binary)
        );
        // "Иванов Иван Иванович" in Windows-1251.
        let cp1251 = b"phone,full_name\n+79161234567,\xc8\xe2\xe0\xed\xee\xe2 \xc8\xe2\xe0\xed \xc8\xe2\xe0\xed\xee\xe2\xe8\xf7\n";
        assert_eq!(sniff(cp1251, true), Err(FileProblem::Windows1251));
        // Latin-1 accents are not Cyrillic.
        assert_eq!(
            sniff(b"M\xfcller J\xfcrgen,caf\xe9", true),
            Err(FileProblem::NotUtf8)
        );
        let message = FileProblem::Windows1251.message("reg.csv");
        assert!(message
            .ru
            .contains("iconv -f WINDOWS-1251 -t UTF-8 reg.csv"));
        assert!(message.en.contains("Windows-1251"));
    }
}
