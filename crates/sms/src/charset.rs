//! Turning the bytes a gateway hands over into text.
//!
//! Kannel passes a message's text to the application as it got it from the operator: UTF-8
//! for 7-bit messages (its internal form), UTF-16BE for UCS-2 ones unless `mo-recode` is on,
//! or in an `alt-charset` such as Windows-1251 if the service is configured so. It says which
//! with `coding` (`%c`: 0 7-bit, 1 8-bit, 2 UCS-2) and `charset` (`%C`). [`decode`] honours
//! both and, when they are absent, takes valid UTF-8 as UTF-8 and anything else as
//! Windows-1251 (the Russian single-byte charset, whose Latin half is ASCII). It never fails:
//! an unmappable byte (or half a UTF-16 unit) becomes U+FFFD. The tables are encoding_rs's.

/// Decodes `bytes` as the gateway described them.
pub fn decode(bytes: &[u8], coding: Option<&str>, charset: Option<&str>) -> String {
    let charset = charset
        .map(|c| c.trim().to_ascii_uppercase())
        .unwrap_or_default();
    let ucs2 = coding.map(str::trim) == Some("2");
    match charset.as_str() {
        "UTF-16BE" | "UTF-16" | "UCS-2" | "UCS-2BE" | "UCS2" => utf16be(bytes),
        "UTF-8" | "UTF8" => String::from_utf8_lossy(bytes).into_owned(),
        // iconv's Latin-1 (Kannel's names come from iconv) is every byte as its code point;
        // the WHATWG labels encoding_rs knows would read it as Windows-1252.
        "ISO-8859-1" | "LATIN1" => bytes.iter().map(|&b| b as char).collect(),
        "" if ucs2 => utf16be(bytes),
        "" => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            Err(_) => decode_as(encoding_rs::WINDOWS_1251, bytes),
        },
        // Windows-1251 and -1252, KOI8-R and the rest, by their WHATWG labels.
        label => match encoding_rs::Encoding::for_label(label.as_bytes()) {
            Some(encoding) => decode_as(encoding, bytes),
            None if ucs2 => utf16be(bytes),
            None => String::from_utf8_lossy(bytes).into_owned(),
        },
    }
}

fn utf16be(bytes: &[u8]) -> String {
    decode_as(encoding_rs::UTF_16BE, bytes)
}

/// `bytes` in `encoding`, with U+FFFD for what it does not map.
fn decode_as(encoding: &'static encoding_rs::Encoding, bytes: &[u8]) -> String {
    encoding.decode_without_bom_handling(bytes).0.into_owned()
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
        let koi8: Vec<u8> = vec![0xF0, 0xF2, 0xEF, 0xF0, 0xF5, 0xF3, 0xEB, b' ', b'3'];
        assert_eq!(decode(&koi8, None, Some("KOI8-R")), text);
    }

    #[test]
    fn western_single_byte_charsets() {
        // Windows-1252 has printable characters at 0x80–0x9F, where Latin-1 has controls.
        assert_eq!(
            decode(&[0x80, 0x93, 0x94], None, Some("windows-1252")),
            "€“”"
        );
        assert_eq!(decode(&[0xE9], None, Some("windows-1252")), "é");
        assert_eq!(decode(&[0x80, 0xE9], None, Some("ISO-8859-1")), "\u{80}é");
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
