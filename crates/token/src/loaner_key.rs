//! Loaner keys: what a patient types on a lent phone to connect it to their case, read off
//! the officer's screen.
//!
//! Sixteen symbols of the short-code alphabet (see [`crate::ShortCode`]) shown as
//! `XXXX-XXXX-XXXX-XXXX`: fifteen random ones (15 · log₂ 31 ≈ 74 bits, far beyond guessing
//! for a key that is used once and dies with the loan) and a check symbol with the same rule
//! as a short code's, so a mistyped symbol or two swapped neighbours are caught before the
//! server is asked. Typed in any case, with or without dashes or spaces, with the letters
//! that look like digits (and Cyrillic look-alikes) read as the short code reads them.

use std::fmt;
use std::str::FromStr;

use rand_core::CryptoRngCore;

use crate::short_code::{check_symbol, normalize, ALPHABET};

const LEN: usize = 16;

/// A key whose check symbol matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LoanerKey([u8; LEN]);

/// Why a typed key was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoanerKeyError {
    /// Nothing but separators.
    #[error("The key is empty.")]
    Empty,
    /// Not 16 symbols.
    #[error("A key has 16 letters and digits; {0} were typed.")]
    WrongLength(usize),
    /// A character no key holds.
    #[error("The character “{0}” is in no key.")]
    BadCharacter(char),
    /// The check symbol does not match: a typo.
    #[error("The key has a typo: a character is mistyped or two are swapped.")]
    CheckFailed,
}

impl LoanerKey {
    /// A random key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut key = [0u8; LEN];
        for slot in &mut key[..LEN - 1] {
            // Rejection sampling keeps every symbol equally likely.
            *slot = loop {
                let b = (rng.next_u32() & 0x1F) as usize;
                if b < ALPHABET.len() {
                    break ALPHABET[b];
                }
            };
        }
        key[LEN - 1] = check_symbol(&key[..LEN - 1]);
        Self(key)
    }

    /// The canonical form without separators (what is hashed and stored).
    pub fn compact(&self) -> String {
        self.0.iter().map(|&b| b as char).collect()
    }
}

impl fmt::Display for LoanerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.compact();
        write!(f, "{}-{}-{}-{}", &s[0..4], &s[4..8], &s[8..12], &s[12..16])
    }
}

impl FromStr for LoanerKey {
    type Err = LoanerKeyError;

    fn from_str(s: &str) -> Result<Self, LoanerKeyError> {
        let mut key = Vec::with_capacity(LEN);
        for c in s.chars().filter(|c| !c.is_whitespace() && *c != '-') {
            key.push(normalize(c).ok_or(LoanerKeyError::BadCharacter(c))?);
        }
        if key.is_empty() {
            return Err(LoanerKeyError::Empty);
        }
        let key: [u8; LEN] = key
            .try_into()
            .map_err(|v: Vec<u8>| LoanerKeyError::WrongLength(v.len()))?;
        if check_symbol(&key[..LEN - 1]) != key[LEN - 1] {
            return Err(LoanerKeyError::CheckFailed);
        }
        Ok(Self(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_four_groups_of_four_and_parse_back_in_any_form() {
        for _ in 0..200 {
            let key = LoanerKey::generate(&mut rand_core::OsRng);
            let shown = key.to_string();
            assert_eq!(shown.len(), 19, "{shown}");
            assert!(shown.split('-').all(|g| g.len() == 4), "{shown}");
            assert_eq!(shown.parse::<LoanerKey>(), Ok(key));
            assert_eq!(key.compact().to_lowercase().parse(), Ok(key));
            assert_eq!(shown.replace('-', " ").parse(), Ok(key));
            assert_eq!(format!("  {} ", key.compact()).parse(), Ok(key));
        }
    }

    #[test]
    fn every_single_typo_and_neighbour_swap_is_caught() {
        for _ in 0..30 {
            let key = LoanerKey::generate(&mut rand_core::OsRng)
                .compact()
                .into_bytes();
            for i in 0..key.len() {
                for &s in ALPHABET {
                    if s != key[i] {
                        let mut typo = key.clone();
                        typo[i] = s;
                        let typo = String::from_utf8(typo).unwrap();
                        assert_eq!(typo.parse::<LoanerKey>(), Err(LoanerKeyError::CheckFailed));
                    }
                }
                if i + 1 < key.len() && key[i] != key[i + 1] {
                    let mut swapped = key.clone();
                    swapped.swap(i, i + 1);
                    let swapped = String::from_utf8(swapped).unwrap();
                    assert_eq!(
                        swapped.parse::<LoanerKey>(),
                        Err(LoanerKeyError::CheckFailed)
                    );
                }
            }
        }
    }

    #[test]
    fn look_alikes_read_as_the_symbols_and_other_input_is_refused() {
        let key = LoanerKey::generate(&mut rand_core::OsRng);
        let with_o = key.compact().replace('0', "o").replace('1', "l");
        assert_eq!(with_o.parse(), Ok(key));
        assert_eq!("".parse::<LoanerKey>(), Err(LoanerKeyError::Empty));
        assert_eq!(" - ".parse::<LoanerKey>(), Err(LoanerKeyError::Empty));
        assert_eq!(
            "ABCD-EFGH-JKMN".parse::<LoanerKey>(),
            Err(LoanerKeyError::WrongLength(12))
        );
        assert_eq!(
            "ABCD-EFGH-JKMN-PQR!".parse::<LoanerKey>(),
            Err(LoanerKeyError::BadCharacter('!'))
        );
    }
}
