//! GSM-7 or UCS-2, and how many segments a text takes.
//!
//! An SMS carries 140 octets. A text written entirely in the GSM 03.38 alphabet travels in
//! 7-bit packing: 160 characters in one message, or 153 per part once a concatenation header
//! takes its 6 octets; the characters of the extension table (`{ } [ ] ~ \ | ^ €` and form
//! feed) take two septets each and are never split between parts. Any other character —
//! every Cyrillic letter, an emoji — sends the whole text as UCS-2: 70 UTF-16 units in one
//! message, 67 per part, a surrogate pair (an emoji) never split.
//!
//! Operators bill per segment, so the count is stored with every message sent.

/// How a text is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gsm7 => "gsm7",
            Self::Ucs2 => "ucs2",
        }
    }

    /// Kannel's `coding` value: 0 for 7-bit, 2 for UCS-2.
    pub fn kannel_coding(self) -> u8 {
        match self {
            Self::Gsm7 => 0,
            Self::Ucs2 => 2,
        }
    }

    /// The most units (septets or UTF-16 units) in a single, unconcatenated message.
    pub fn single_limit(self) -> usize {
        match self {
            Self::Gsm7 => 160,
            Self::Ucs2 => 70,
        }
    }

    /// The most units per part of a concatenated message.
    pub fn part_limit(self) -> usize {
        match self {
            Self::Gsm7 => 153,
            Self::Ucs2 => 67,
        }
    }
}

/// A text's encoding and size on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 units (UCS-2).
    pub units: usize,
    /// Messages billed; an empty text still takes one.
    pub count: usize,
}

/// The GSM 03.38 basic character set, in code order (ESC at 0x1B stands as a space here and
/// is never matched, since the text is checked against it as characters).
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1B}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table: two septets each (ESC + code).
const EXTENSION: &str = "\u{0C}^{}\\[~]|€";

/// Septets a character takes in GSM-7, or None when it has no GSM-7 form.
pub fn gsm7_septets(c: char) -> Option<usize> {
    if c != '\u{1B}' && BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// GSM-7 when every character has a GSM-7 form, else UCS-2.
pub fn encoding(text: &str) -> Encoding {
    if text.chars().all(|c| gsm7_septets(c).is_some()) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

/// The encoding, size and number of segments of `text`.
pub fn segments(text: &str) -> Segments {
    let encoding = encoding(text);
    let sizes: Vec<usize> = match encoding {
        Encoding::Gsm7 => text.chars().map(|c| gsm7_septets(c).unwrap_or(1)).collect(),
        Encoding::Ucs2 => text.chars().map(char::len_utf16).collect(),
    };
    let units: usize = sizes.iter().sum();
    let count = if units <= encoding.single_limit() {
        1
    } else {
        // Parts are filled greedily; a character that does not fit whole starts a new part.
        let limit = encoding.part_limit();
        let (mut parts, mut used) = (1, 0);
        for size in sizes {
            if used + size > limit {
                parts += 1;
                used = 0;
            }
            used += size;
        }
        parts
    };
    Segments {
        encoding,
        units,
        count,
    }
}

/// Whether `text` fits one segment.
pub fn fits_one(text: &str) -> bool {
    segments(text).count == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_limits() {
        assert_eq!(segments("").count, 1);
        let s = segments(&"a".repeat(160));
        assert_eq!((s.encoding, s.units, s.count), (Encoding::Gsm7, 160, 1));
        assert_eq!(segments(&"a".repeat(161)).count, 2);
        assert_eq!(segments(&"a".repeat(306)).count, 2);
        assert_eq!(segments(&"a".repeat(307)).count, 3);
        // `€` takes two septets: 80 of them fill one message, 81 do not.
        assert_eq!(segments(&"€".repeat(80)).units, 160);
        assert_eq!(segments(&"€".repeat(80)).count, 1);
        assert_eq!(segments(&"€".repeat(81)).count, 2, "76 + 5");
        // An escape pair is never split: 152 + (2 + 151) + 1 septets make three parts.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(segments(&text).count, 3);
        assert_eq!(
            encoding("Pass 7K3-QX9-4MM: 10:00-13:00 @ home_{ok}"),
            Encoding::Gsm7
        );
        assert_eq!(encoding("café"), Encoding::Gsm7, "é is in the basic set");
        assert_eq!(encoding("naïve"), Encoding::Ucs2, "ï is not");
    }

    #[test]
    fn ucs2_limits() {
        let s = segments(&"я".repeat(70));
        assert_eq!((s.encoding, s.units, s.count), (Encoding::Ucs2, 70, 1));
        assert_eq!(segments(&"я".repeat(71)).count, 2);
        assert_eq!(segments(&"я".repeat(134)).count, 2);
        assert_eq!(segments(&"я".repeat(135)).count, 3);
        // An emoji is two UTF-16 units and makes a Latin text UCS-2.
        let s = segments("ok 👍");
        assert_eq!((s.encoding, s.units), (Encoding::Ucs2, 5));
        // 66 units then an emoji: it does not fit in the first part whole.
        let text = format!("{}👍{}", "я".repeat(66), "я".repeat(10));
        assert_eq!(segments(&text).count, 2);
    }

    #[test]
    fn a_single_cyrillic_letter_makes_ucs2() {
        assert_eq!(encoding("Pass 7K3-QX9-4MM"), Encoding::Gsm7);
        assert_eq!(encoding("Pass 7K3-QX9-4MМ"), Encoding::Ucs2, "a Cyrillic М");
        assert_eq!(Encoding::Ucs2.kannel_coding(), 2);
    }
}
