//! The published public keys as a JSON Web Key Set (RFC 7517), and the trust
//! list a verifier builds from it.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::keys::{KeyId, VerifyingKey};

/// One JWK as published: OKP/Ed25519 or EC/P-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwk {
    /// `OKP` (Ed25519) or `EC` (P-256).
    pub kty: String,
    /// `Ed25519` or `P-256`.
    pub crv: String,
    /// base64url.
    pub x: String,
    /// base64url; EC keys only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// base64url of the 8-byte key id (SHA-256 of the SPKI DER, truncated).
    pub kid: String,
    /// `EdDSA` or `ES256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `sig`.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

/// RFC 7517 key set: every key a valid pass may be signed with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// Why a key set cannot be trusted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwksError {
    #[error("key set is not JSON of the form {{\"keys\": [...]}}: {0}")]
    NotJson(String),
    #[error("key {index}: {reason}")]
    BadKey { index: usize, reason: String },
}

impl Jwk {
    pub fn from_key(key: &VerifyingKey) -> Self {
        let (x, y) = key.jwk_params();
        let (kty, crv) = match y {
            None => ("OKP", "Ed25519"),
            Some(_) => ("EC", "P-256"),
        };
        Self {
            kty: kty.into(),
            crv: crv.into(),
            x: URL_SAFE_NO_PAD.encode(x),
            y: y.map(|y| URL_SAFE_NO_PAD.encode(y)),
            kid: key.kid().to_string(),
            alg: Some(key.algorithm().jose_name().into()),
            use_: Some("sig".into()),
        }
    }

    /// The verifying key this JWK describes, after checking that its `kid` is the
    /// one its key material implies (a mismatch means a broken or forged key set).
    pub fn to_key(&self) -> Result<VerifyingKey, String> {
        let b64 = |field: &str, v: &str| {
            URL_SAFE_NO_PAD
                .decode(v.trim_end_matches('='))
                .map_err(|_| format!("'{field}' is not base64url"))
        };
        let key = match (self.kty.as_str(), self.crv.as_str()) {
            ("OKP", "Ed25519") => VerifyingKey::ed25519(&b64("x", &self.x)?),
            ("EC", "P-256") => {
                let y = self.y.as_deref().ok_or("EC key has no 'y'")?;
                VerifyingKey::p256(&b64("x", &self.x)?, &b64("y", y)?)
            }
            (kty, crv) => {
                return Err(format!(
                    "unsupported key type {kty}/{crv} (expected OKP/Ed25519 or EC/P-256)"
                ))
            }
        }
        .map_err(|e| e.0)?;
        let kid: KeyId = self.kid.parse()?;
        if kid != key.kid() {
            return Err(format!(
                "kid '{}' does not match the key (SHA-256 of its SPKI gives '{}')",
                self.kid,
                key.kid()
            ));
        }
        Ok(key)
    }
}

impl Jwks {
    pub fn from_keys<'a>(keys: impl IntoIterator<Item = &'a VerifyingKey>) -> Self {
        Self {
            keys: keys.into_iter().map(Jwk::from_key).collect(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a key set of plain strings serializes")
    }
}

/// The keys a verifier trusts, by key id.
#[derive(Debug, Clone, Default)]
pub struct TrustList {
    keys: HashMap<KeyId, VerifyingKey>,
}

impl TrustList {
    pub fn new(keys: impl IntoIterator<Item = VerifyingKey>) -> Self {
        Self {
            keys: keys.into_iter().map(|k| (k.kid(), k)).collect(),
        }
    }

    /// Parses a JWKS document. Every key must be well-formed; one bad key rejects
    /// the whole set, since a partly understood trust list is a silent failure.
    pub fn from_jwks_json(json: &str) -> Result<Self, JwksError> {
        let jwks: Jwks =
            serde_json::from_str(json).map_err(|e| JwksError::NotJson(e.to_string()))?;
        let keys = jwks
            .keys
            .iter()
            .enumerate()
            .map(|(index, jwk)| {
                jwk.to_key()
                    .map_err(|reason| JwksError::BadKey { index, reason })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(keys))
    }

    pub fn get(&self, kid: &KeyId) -> Option<&VerifyingKey> {
        self.keys.get(kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Algorithm, SigningKey};

    #[test]
    fn jwks_round_trip_and_kid_check() {
        let a = SigningKey::generate(Algorithm::EdDsa, &mut rand_core::OsRng).verifying_key();
        let b = SigningKey::generate(Algorithm::Es256, &mut rand_core::OsRng).verifying_key();
        let json = Jwks::from_keys([&a, &b]).to_json();
        let trust = TrustList::from_jwks_json(&json).unwrap();
        assert_eq!(trust.len(), 2);
        assert!(trust.get(&a.kid()).is_some() && trust.get(&b.kid()).is_some());

        let mut jwks: Jwks = serde_json::from_str(&json).unwrap();
        jwks.keys[0].kid = b.kid().to_string();
        let err = TrustList::from_jwks_json(&serde_json::to_string(&jwks).unwrap()).unwrap_err();
        assert!(matches!(err, JwksError::BadKey { index: 0, .. }), "{err}");
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            TrustList::from_jwks_json("[]"),
            Err(JwksError::NotJson(_))
        ));
        let bad = r#"{"keys":[{"kty":"RSA","crv":"x","x":"AA","kid":"AAAAAAAAAAA"}]}"#;
        assert!(matches!(
            TrustList::from_jwks_json(bad),
            Err(JwksError::BadKey { .. })
        ));
    }
}
