//! Short codes: what a person without a QR scanner reads out, types or gets by SMS.
//!
//! Eight random symbols and one check symbol, shown as `XXX-XXX-XXX`. The alphabet
//! has 31 symbols (Crockford's base32 without `Z`, which reads like `2`). Because
//! 31 is prime, the check symbol makes `Σ i·vᵢ ≡ 0 (mod 31)` over positions
//! i = 1..9, which catches every single wrong symbol (i·Δ ≢ 0 for i < 31) and every
//! swap of two neighbours (the sum changes by exactly the difference of the two).
//! A short code is not signed: it only means something to the online lookup.

use std::fmt;
use std::str::FromStr;

use rand_core::CryptoRngCore;

pub(crate) const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKMNPQRSTVWXY";
const DATA_LEN: usize = 8;
const MODULUS: u32 = 31;

/// A valid short code (the check symbol matched).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShortCode([u8; DATA_LEN + 1]);

/// Why a typed short code was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShortCodeError {
    #[error("a short code has 9 characters (like 7K3-QX9-4MM); got {0}")]
    WrongLength(usize),
    #[error("'{0}' cannot appear in a short code (letters and digits only)")]
    BadCharacter(char),
    #[error("the short code does not check out: a character is mistyped or two are swapped")]
    CheckFailed,
}

fn value(symbol: u8) -> u32 {
    ALPHABET.iter().position(|&a| a == symbol).unwrap_or(0) as u32
}

/// The symbol that makes `Σ i·vᵢ ≡ 0 (mod 31)` over `data` followed by it.
pub(crate) fn check_symbol(data: &[u8]) -> u8 {
    let sum: u32 = data
        .iter()
        .enumerate()
        .map(|(i, &s)| (i as u32 + 1) * value(s))
        .sum();
    let weight = data.len() as u32 + 1;
    // c·weight ≡ −sum (mod 31); weight's inverse by Fermat: weight^(31−2).
    let inverse = (0..MODULUS - 2).fold(1, |acc, _| acc * weight % MODULUS);
    let c = (MODULUS - sum % MODULUS) % MODULUS * inverse % MODULUS;
    ALPHABET[c as usize]
}

/// Maps what people type to the canonical symbol: any case, the letters that look
/// like digits, and Cyrillic letters that look like Latin ones (phones switch
/// keyboards). Returns None for anything else.
pub(crate) fn normalize(c: char) -> Option<u8> {
    let c = match c {
        'О' | 'о' | 'O' | 'o' => '0',
        'I' | 'i' | 'L' | 'l' => '1',
        'Z' | 'z' | 'З' | 'з' => '2',
        'U' | 'u' => 'V',
        'А' | 'а' => 'A',
        'В' | 'в' => 'B',
        'Е' | 'е' => 'E',
        'К' | 'к' => 'K',
        'М' | 'м' => 'M',
        'Н' | 'н' => 'H',
        'Р' | 'р' => 'P',
        'С' | 'с' => 'C',
        'Т' | 'т' => 'T',
        'Х' | 'х' => 'X',
        'У' | 'у' => 'Y',
        c => c.to_ascii_uppercase(),
    };
    u8::try_from(c).ok().filter(|b| ALPHABET.contains(b))
}

impl ShortCode {
    /// A random code whose random part holds at least one digit, so that a code
    /// can never read as a word (an SMS of letters only is a command, not a code).
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut code = [0u8; DATA_LEN + 1];
        loop {
            for slot in &mut code[..DATA_LEN] {
                // Rejection sampling keeps every symbol equally likely.
                *slot = loop {
                    let b = (rng.next_u32() & 0x1F) as usize;
                    if b < ALPHABET.len() {
                        break ALPHABET[b];
                    }
                };
            }
            if code[..DATA_LEN].iter().any(u8::is_ascii_digit) {
                break;
            }
        }
        code[DATA_LEN] = check_symbol(&code[..DATA_LEN]);
        Self(code)
    }

    /// The canonical form without separators, e.g. `7K3QX94MP` (what the database keys on).
    pub fn compact(&self) -> String {
        self.0.iter().map(|&b| b as char).collect()
    }
}

impl fmt::Display for ShortCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.compact();
        write!(f, "{}-{}-{}", &s[0..3], &s[3..6], &s[6..9])
    }
}

impl FromStr for ShortCode {
    type Err = ShortCodeError;
    /// Forgiving about separators (spaces, `-`, `*`, `#`), case and look-alikes;
    /// strict about the check symbol.
    fn from_str(s: &str) -> Result<Self, ShortCodeError> {
        let mut code = Vec::with_capacity(DATA_LEN + 1);
        for c in s
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '*' | '#' | '.' | '_'))
        {
            code.push(normalize(c).ok_or(ShortCodeError::BadCharacter(c))?);
        }
        let code: [u8; DATA_LEN + 1] = code
            .try_into()
            .map_err(|v: Vec<u8>| ShortCodeError::WrongLength(v.len()))?;
        if check_symbol(&code[..DATA_LEN]) != code[DATA_LEN] {
            return Err(ShortCodeError::CheckFailed);
        }
        Ok(Self(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_parse_back_in_any_form() {
        for _ in 0..200 {
            let code = ShortCode::generate(&mut rand_core::OsRng);
            let shown = code.to_string();
            assert_eq!(shown.len(), 11);
            assert_eq!(shown.parse::<ShortCode>().unwrap(), code);
            assert_eq!(
                code.compact().to_lowercase().parse::<ShortCode>().unwrap(),
                code
            );
            let spaced = shown.replace('-', " ");
            assert_eq!(spaced.parse::<ShortCode>().unwrap(), code);
        }
    }

    #[test]
    fn generated_codes_always_hold_a_digit() {
        for _ in 0..2000 {
            let code = ShortCode::generate(&mut rand_core::OsRng).compact();
            assert!(code[..8].bytes().any(|b| b.is_ascii_digit()), "{code}");
        }
    }

    #[test]
    fn catches_every_single_substitution_and_adjacent_swap() {
        for _ in 0..50 {
            let code = ShortCode::generate(&mut rand_core::OsRng)
                .compact()
                .into_bytes();
            for i in 0..code.len() {
                for &s in ALPHABET {
                    if s != code[i] {
                        let mut typo = code.clone();
                        typo[i] = s;
                        let typo = String::from_utf8(typo).unwrap();
                        assert_eq!(
                            typo.parse::<ShortCode>(),
                            Err(ShortCodeError::CheckFailed),
                            "{typo}"
                        );
                    }
                }
                if i + 1 < code.len() && code[i] != code[i + 1] {
                    let mut swapped = code.clone();
                    swapped.swap(i, i + 1);
                    let swapped = String::from_utf8(swapped).unwrap();
                    assert_eq!(
                        swapped.parse::<ShortCode>(),
                        Err(ShortCodeError::CheckFailed)
                    );
                }
            }
        }
    }

    #[test]
    fn cyrillic_look_alikes_and_errors() {
        let code: ShortCode = "7K3-QX9-4MP".parse().unwrap_or_else(|_| {
            // Find a real code with Cyrillic look-alike letters to type.
            ShortCode::generate(&mut rand_core::OsRng)
        });
        let cyr: String = code
            .to_string()
            .replace('K', "К")
            .replace('M', "м")
            .replace('P', "р");
        assert_eq!(cyr.parse::<ShortCode>().unwrap(), code);
        assert_eq!(
            "12".parse::<ShortCode>(),
            Err(ShortCodeError::WrongLength(2))
        );
        assert_eq!(
            "ABC-DEF-GH!".parse::<ShortCode>(),
            Err(ShortCodeError::BadCharacter('!'))
        );
    }
}
