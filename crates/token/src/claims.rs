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
        set.to_vec()
            .expect("a claims set of plain values serializes")
    }

    /// Reads a CWT claims set. Unknown claims and unknown keys of the pass claim are
    /// ignored (room for later versions); a missing, repeated or mistyped known one
    /// is an error.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, String> {
        let value: Value =
            ciborium::de::from_reader(bytes).map_err(|e| format!("claims are not CBOR: {e}"))?;
        let Value::Map(entries) = value else {
            return Err("claims are not a CBOR map".into());
        };
        let mut claims = Fields::default();
        for (key, value) in entries {
            // Claims with text or out-of-range keys belong to nobody we know: skip them.
            let Some(key) = key.as_integer().and_then(|k| i64::try_from(k).ok()) else {
                continue;
            };
            let slot = match key {
                ISS => &mut claims.iss,
                IAT => &mut claims.iat,
                NBF => &mut claims.nbf,
                EXP => &mut claims.exp,
                CTI => &mut claims.cti,
                PASS_CLAIM => &mut claims.pass,
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(format!("claim {key} appears twice"));
            }
        }
        let iss = match claims.iss {
            Some(Value::Text(t)) => t,
            Some(_) => return Err("claim 'iss' (1) must be text".into()),
            None => return Err("claim 'iss' (1) is missing".into()),
        };
        let iat = time("iat (6)", claims.iat)?;
        let nbf = time("nbf (5)", claims.nbf)?;
        let exp = time("exp (4)", claims.exp)?;
        let pass_id: [u8; 16] = match claims.cti {
            Some(Value::Bytes(b)) => b
                .try_into()
                .map_err(|_| "claim 'cti' (7) must be 16 bytes")?,
            Some(_) => return Err("claim 'cti' (7) must be a byte string".into()),
            None => return Err("claim 'cti' (7, the pass id) is missing".into()),
        };
        let Some(Value::Map(entries)) = claims.pass else {
            return Err("pass claim -65537 is missing or not a map".into());
        };
        let mut fields: [Option<String>; 5] = Default::default();
        for (key, value) in entries {
            let Some(k) = key
                .as_integer()
                .and_then(|k| u8::try_from(k).ok())
                .filter(|k| (1..=5).contains(k))
            else {
                continue;
            };
            let Value::Text(text) = value else {
                return Err(format!("pass claim -65537 key {k} must be text"));
            };
            if fields[usize::from(k - 1)].replace(text).is_some() {
                return Err(format!("pass claim -65537 repeats key {k}"));
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

const ISS: i64 = 1;
const EXP: i64 = 4;
const NBF: i64 = 5;
const IAT: i64 = 6;
const CTI: i64 = 7;

#[derive(Default)]
struct Fields {
    iss: Option<Value>,
    iat: Option<Value>,
    nbf: Option<Value>,
    exp: Option<Value>,
    cti: Option<Value>,
    pass: Option<Value>,
}

fn time(name: &str, value: Option<Value>) -> Result<i64, String> {
    match value {
        Some(Value::Integer(i)) => {
            i64::try_from(i).map_err(|_| format!("claim '{name}' is out of range"))
        }
        Some(_) => Err(format!(
            "claim '{name}' must be an integer number of seconds"
        )),
        None => Err(format!("claim '{name}' is missing")),
    }
}

// The claim keys this module reads, checked against coset's IANA table.
const _: () = {
    assert!(iana::CwtClaimName::Iss as i64 == ISS);
    assert!(iana::CwtClaimName::Exp as i64 == EXP);
    assert!(iana::CwtClaimName::Nbf as i64 == NBF);
    assert!(iana::CwtClaimName::Iat as i64 == IAT);
    assert!(iana::CwtClaimName::Cti as i64 == CTI);
};

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PassClaims {
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
    fn unknown_claims_are_ignored_repeated_ones_rejected() {
        let mut value: Value = ciborium::de::from_reader(&sample().to_cbor()[..]).unwrap();
        if let Value::Map(m) = &mut value {
            m.push((Value::Integer(99.into()), Value::Text("later".into())));
            m.push((Value::Text("note".into()), Value::Null));
        }
        let mut bytes = Vec::new();
        ciborium::ser::into_writer(&value, &mut bytes).unwrap();
        assert_eq!(PassClaims::from_cbor(&bytes).unwrap(), sample());
        if let Value::Map(m) = &mut value {
            m.push((Value::Integer(4.into()), Value::Integer(1.into())));
        }
        bytes.clear();
        ciborium::ser::into_writer(&value, &mut bytes).unwrap();
        assert!(PassClaims::from_cbor(&bytes).unwrap_err().contains("twice"));
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
