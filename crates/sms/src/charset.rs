//! Turning the bytes a gateway hands over into text.
//!
//! Kannel passes a message's text to the application as it got it from the operator: UTF-8
//! for 7-bit messages (its internal form), UTF-16BE for UCS-2 ones unless `mo-recode` is on,
//! or in an `alt-charset` such as Windows-1251 if the service is configured so. It says which
//! with `coding` (`%c`: 0 7-bit, 1 8-bit, 2 UCS-2) and `charset` (`%C`). [`decode`] honours
//! both and, when they are absent, takes valid UTF-8 as UTF-8 and anything else as
//! Windows-1251 (the Russian single-byte charset, whose Latin half is ASCII). It never fails:
//! an unmappable byte becomes U+FFFD.

/// Decodes `bytes` as the gateway described them.
pub fn decode(bytes: &[u8], coding: Option<&str>, charset: Option<&str>) -> String {
    let charset = charset
        .map(|c| c.trim().to_ascii_uppercase())
        .unwrap_or_default();
    let ucs2 = coding.map(str::trim) == Some("2");
    match charset.as_str() {
        "UTF-16BE" | "UTF-16" | "UCS-2" | "UCS-2BE" | "UCS2" => utf16be(bytes),
        "UTF-8" | "UTF8" => String::from_utf8_lossy(bytes).into_owned(),
        "WINDOWS-1251" | "CP1251" => cp1251(bytes),
        "ISO-8859-1" | "LATIN1" | "WINDOWS-1252" => bytes.iter().map(|&b| b as char).collect(),
        _ if ucs2 => utf16be(bytes),
        _ => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            Err(_) => cp1251(bytes),
        },
    }
}

fn utf16be(bytes: &[u8]) -> String {
    let units = bytes
        .chunks(2)
        .map(|p| u16::from_be_bytes([p[0], p.get(1).copied().unwrap_or(0)]));
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Windows-1251: ASCII below 0x80; the Cyrillic alphabet at 0xC0–0xFF; the rest from the
/// table for 0x80–0xBF.
fn cp1251(bytes: &[u8]) -> String {
    const HIGH: [char; 64] = [
        'Ђ', 'Ѓ', '‚', 'ѓ', '„', '…', '†', '‡', '€', '‰', 'Љ', '‹', 'Њ', 'Ќ', 'Ћ', 'Џ', //
        'ђ', '‘', '’', '“', '”', '•', '–', '—', '\u{FFFD}', '™', 'љ', '›', 'њ', 'ќ', 'ћ', 'џ',
        '\u{A0}', 'Ў', 'ў', 'Ј', '¤', 'Ґ', '¦', '§', 'Ё', '©', 'Є', '«', '¬', '\u{AD}', '®', 'Ї',
        '°', '±', 'І', 'і', 'ґ', 'µ', '¶', '·', 'ё', '№', 'є', '»', 'ј', 'Ѕ', 'ѕ', 'ї',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0..=0x7F => b as char,
            0x80..=0xBF => HIGH[usize::from(b - 0x80)],
            _ => char::from_u32(0x0410 + u32::from(b - 0xC0)).unwrap_or('\u{FFFD}'),
        })
        .collect()
}

/// Percent-decodes one query or form value to bytes (`+` is a space).
pub fn url_decode(value: &str) -> Vec<u8> {
    let plus_as_space = value.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space).collect()
}

/// The parameters of a query string or form body, names decoded as UTF-8, values left as
/// bytes (their charset is only known from the other parameters).
pub fn query_pairs(query: &str) -> Vec<(String, Vec<u8>)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                String::from_utf8_lossy(&url_decode(name)).into_owned(),
                url_decode(value),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_kannel_may_send_cyrillic() {
        let text = "ПРОПУСК 3";
        assert_eq!(decode(text.as_bytes(), Some("0"), Some("UTF-8")), text);
        assert_eq!(decode(text.as_bytes(), None, None), text);
        let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode(&utf16, Some("2"), None), text);
        assert_eq!(decode(&utf16, Some("2"), Some("UTF-16BE")), text);
        let cp: Vec<u8> = vec![0xCF, 0xD0, 0xCE, 0xCF, 0xD3, 0xD1, 0xCA, b' ', b'3'];
        assert_eq!(decode(&cp, None, Some("windows-1251")), text);
        assert_eq!(
            decode(&cp, Some("0"), None),
            text,
            "not UTF-8: read as 1251"
        );
        assert_eq!(decode(&[0xA8, 0xB8], None, Some("CP1251")), "Ёё");
        assert_eq!(decode(&[0xD8, 0x3D, 0xDE, 0x00], Some("2"), None), "😀");
        assert_eq!(decode(&[0xD8], Some("2"), None), "\u{FFFD}", "half a unit");
    }

    #[test]
    fn query_values_stay_bytes_until_decoded() {
        let pairs = query_pairs("from=%2B79161234567&text=%D0%9F+3&id=a-b&secret=s&empty=");
        assert_eq!(pairs[0], ("from".into(), b"+79161234567".to_vec()));
        assert_eq!(String::from_utf8(pairs[1].1.clone()).unwrap(), "П 3");
        assert_eq!(pairs[4], ("empty".into(), vec![]));
        assert_eq!(url_decode("%zz%4"), b"%zz%4");
    }
}
