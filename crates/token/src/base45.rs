//! Base45 (RFC 9285): bytes as text from the QR code alphanumeric set, so a QR
//! code can use its dense alphanumeric mode.

use std::fmt;

const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Why a text is not base45.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base45Error {
    /// A character outside the 45-character alphabet, at this byte offset.
    BadCharacter(usize),
    /// The length leaves a single dangling character (valid lengths are 3k or 3k+2).
    BadLength(usize),
    /// A group decodes to a value that does not fit its bytes, at this byte offset.
    Overflow(usize),
}

impl fmt::Display for Base45Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadCharacter(at) => {
                write!(f, "character at offset {at} is not in the base45 alphabet")
            }
            Self::BadLength(len) => write!(
                f,
                "base45 text of length {len} is truncated (expected a length of 3k or 3k+2)"
            ),
            Self::Overflow(at) => write!(f, "base45 group at offset {at} is out of range"),
        }
    }
}

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    let push = |out: &mut String, v: usize| out.push(ALPHABET[v] as char);
    for pair in bytes.chunks(2) {
        if let [a, b] = pair {
            let n = (usize::from(*a) << 8) | usize::from(*b);
            push(&mut out, n % 45);
            push(&mut out, (n / 45) % 45);
            push(&mut out, n / 2025);
        } else {
            let n = usize::from(pair[0]);
            push(&mut out, n % 45);
            push(&mut out, n / 45);
        }
    }
    out
}

fn digit(c: u8, at: usize) -> Result<u32, Base45Error> {
    ALPHABET
        .iter()
        .position(|&a| a == c)
        .map(|p| p as u32)
        .ok_or(Base45Error::BadCharacter(at))
}

pub fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    let bytes = text.as_bytes();
    if bytes.len() % 3 == 1 {
        return Err(Base45Error::BadLength(bytes.len()));
    }
    let mut out = Vec::with_capacity(bytes.len() / 3 * 2 + 1);
    for (i, group) in bytes.chunks(3).enumerate() {
        let at = i * 3;
        let mut n = 0u32;
        let mut weight = 1;
        for (k, &c) in group.iter().enumerate() {
            n += digit(c, at + k)? * weight;
            weight *= 45;
        }
        if group.len() == 3 {
            if n > 0xFFFF {
                return Err(Base45Error::Overflow(at));
            }
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            if n > 0xFF {
                return Err(Base45Error::Overflow(at));
            }
            out.push(n as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9285_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(decode("QED8WEX0").unwrap(), b"ietf!");
        assert_eq!(decode("").unwrap(), b"");
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(decode("GGW"), Err(Base45Error::Overflow(0)));
        assert_eq!(decode("ab"), Err(Base45Error::BadCharacter(0)));
        assert_eq!(decode("BB8B"), Err(Base45Error::BadLength(4)));
        assert_eq!(decode(":::"), Err(Base45Error::Overflow(0)));
    }

    #[test]
    fn round_trips_every_byte_pair_edge() {
        for v in [
            vec![0u8],
            vec![255],
            vec![0, 0],
            vec![255, 255],
            (0..=255).collect(),
        ] {
            assert_eq!(decode(&encode(&v)).unwrap(), v);
        }
    }
}
