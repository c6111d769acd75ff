//! What a pass says: the CWT claims (RFC 8392) with propusk's private claim -65537.

use std::fmt;
use std::str::FromStr;

use ciborium::value::Value;
use coset::cwt::{ClaimName, ClaimsSet, Timestamp};
use coset::{iana, CborSerializable};
use serde::{Serialize, Serializer};

/// The private CWT claim that holds the pass details.
pub const PASS_CLAIM: i64 = -65537;

/// A pass id: the 16-byte CWT id, written like a UUID.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PassId(pub [u8; 16]);

impl fmt::Display for PassId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for PassId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PassId({self})")
    }
}

impl FromStr for PassId {
    type Err = String;
    /// Accepts the UUID form or 32 bare hex digits.
    fn from_str(s: &str) -> Result<Self, String> {
        let hex: String = s.chars().filter(|&c| c != '-').collect();
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("pass id '{s}' is not 16 bytes of hex in UUID form"));
        }
        let mut id = [0; 16];
        for (i, byte) in id.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).map_err(|e| e.to_string())?;
        }
        Ok(Self(id))
    }
}

impl Serialize for PassId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The claims of one pass. Times are Unix seconds. No name, no document number:
/// `holder` is only initials and the document's last four characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassClaims {
    /// Issuing authority code, e.g. `RU-MOW`.
    pub iss: String,
    pub iat: i64,
    /// Valid from.
    pub nbf: i64,
    /// Valid until (exclusive).
    pub exp: i64,
    pub pass_id: PassId,
    pub purpose: String,
    pub regime: String,
    /// Holder hint, e.g. `И.И. 4567`.
    pub holder: String,
    pub area: Option<String>,
    pub vehicle: Option<String>,
}

impl PassClaims {
    /// The CWT claims set as CBOR bytes.
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut pass = vec![
            (Value::Integer(1.into()), Value::Text(self.purpose.clone())),
            (Value::Integer(2.into()), Value::Text(self.regime.clone())),
            (Value::Integer(3.into()), Value::Text(self.holder.clone())),
        ];
        if let Some(area) = &self.area {
            pass.push((Value::Integer(4.into()), Value::Text(area.clone())));
        }
        if let Some(plate) = &self.vehicle {
            pass.push((Value::Integer(5.into()), Value::Text(plate.clone())));
        }
        let set = ClaimsSet {
            issuer: Some(self.iss.clone()),
            issued_at: Some(Timestamp::WholeSeconds(self.iat)),
            not_before: Some(Timestamp::WholeSeconds(self.nbf)),
            expiration_time: Some(Timestamp::WholeSeconds(self.exp)),
            cwt_id: Some(self.pass_id.0.to_vec()),
            rest: vec![(ClaimName::PrivateUse(PASS_CLAIM), Value::Map(pass))],
            ..Default::default()
        };
        // A claims set of plain values always serializes.
        set.to_vec().unwrap_or_default()
    }

    /// Reads a CWT claims set. Unknown claims and unknown keys of the pass claim are
    /// ignored (room for later versions); a missing or mistyped known one is an error.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, String> {
        let set = ClaimsSet::from_slice(bytes)
            .map_err(|e| format!("claims are not a CWT claims map: {e}"))?;
        let time = |name: &str, t: Option<Timestamp>| match t {
            Some(Timestamp::WholeSeconds(s)) => Ok(s),
            Some(Timestamp::FractionalSeconds(_)) => {
                Err(format!("claim '{name}' must be whole seconds"))
            }
            None => Err(format!("claim '{name}' is missing")),
        };
        let iss = set.issuer.ok_or("claim 'iss' is missing")?;
        let iat = time("iat", set.issued_at)?;
        let nbf = time("nbf", set.not_before)?;
        let exp = time("exp", set.expiration_time)?;
        let pass_id: [u8; 16] = set
            .cwt_id
            .ok_or("claim 'cti' (pass id) is missing")?
            .try_into()
            .map_err(|_| "claim 'cti' must be 16 bytes")?;
        let private = set
            .rest
            .into_iter()
            .find(|(name, _)| *name == ClaimName::PrivateUse(PASS_CLAIM))
            .map(|(_, v)| v)
            .ok_or("pass claim -65537 is missing")?;
        let Value::Map(entries) = private else {
            return Err("pass claim -65537 must be a map".into());
        };
        let mut fields: [Option<String>; 5] = Default::default();
        for (key, value) in entries {
            let Some(k) = key.as_integer().and_then(|k| u8::try_from(k).ok()) else {
                return Err("pass claim -65537 has a key that is not a small integer".into());
            };
            if (1..=5).contains(&k) {
                let Value::Text(text) = value else {
                    return Err(format!("pass claim -65537 key {k} must be text"));
                };
                let slot = &mut fields[usize::from(k - 1)];
                if slot.is_some() {
                    return Err(format!("pass claim -65537 repeats key {k}"));
                }
                *slot = Some(text);
            }
        }
        let [purpose, regime, holder, area, vehicle] = fields;
        let need =
            |v: Option<String>, what: &str| v.ok_or(format!("pass claim -65537 has no {what}"));
        Ok(Self {
            iss,
            iat,
            nbf,
            exp,
            pass_id: PassId(pass_id),
            purpose: need(purpose, "purpose (1)")?,
            regime: need(regime, "regime (2)")?,
            holder: need(holder, "holder hint (3)")?,
            area,
            vehicle,
        })
    }
}

// The claim keys this module relies on, checked against coset's IANA table.
const _: () = {
    assert!(iana::CwtClaimName::Cti as i64 == 7);
    assert!(iana::CwtClaimName::Nbf as i64 == 5);
};

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> PassClaims {
        PassClaims {
            iss: "RU-MOW".into(),
            iat: 1_586_937_600,
            nbf: 1_586_937_600,
            exp: 1_586_948_400,
            pass_id: PassId([7; 16]),
            purpose: "shopping".into(),
            regime: "moscow-2020".into(),
            holder: "И.И. 4567".into(),
            area: None,
            vehicle: Some("А123ВС77".into()),
        }
    }

    #[test]
    fn cbor_round_trip() {
        let c = sample();
        assert_eq!(PassClaims::from_cbor(&c.to_cbor()).unwrap(), c);
    }

    #[test]
    fn pass_id_text_forms() {
        let id: PassId = "00112233-4455-6677-8899-aabbccddeeff".parse().unwrap();
        assert_eq!(id.to_string(), "00112233-4455-6677-8899-aabbccddeeff");
        assert_eq!(
            "00112233445566778899AABBCCDDEEFF"
                .parse::<PassId>()
                .unwrap(),
            id
        );
        assert!("0011".parse::<PassId>().is_err());
        assert!("zz112233445566778899aabbccddeeff"
            .parse::<PassId>()
            .is_err());
    }

    #[test]
    fn missing_claims_are_named() {
        let set = ClaimsSet {
            issuer: Some("RU-MOW".into()),
            ..Default::default()
        };
        let err = PassClaims::from_cbor(&set.to_vec().unwrap()).unwrap_err();
        assert!(err.contains("iat"), "{err}");
    }
}
