//! Signing and verifying keys, their key ids, and their PKCS#8 / SPKI forms.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use p256::pkcs8::LineEnding;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};

/// A signature algorithm a pass may be signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Ed25519 (COSE `alg` -8). The default: small, fast, deterministic.
    EdDsa,
    /// ECDSA over P-256 with SHA-256 (COSE `alg` -7), signatures as raw `r‖s`.
    Es256,
}

impl Algorithm {
    /// The COSE algorithm identifier.
    pub fn cose_id(self) -> i64 {
        match self {
            Self::EdDsa => -8,
            Self::Es256 => -7,
        }
    }

    pub fn from_cose_id(id: i64) -> Option<Self> {
        match id {
            -8 => Some(Self::EdDsa),
            -7 => Some(Self::Es256),
            _ => None,
        }
    }

    /// The JOSE name used in a JWK's `alg`.
    pub fn jose_name(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EdDsa => "ed25519",
            Self::Es256 => "es256",
        })
    }
}

impl FromStr for Algorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "ed25519" | "eddsa" => Ok(Self::EdDsa),
            "es256" | "p256" | "p-256" => Ok(Self::Es256),
            other => Err(format!(
                "unknown algorithm '{other}' (expected ed25519 or es256)"
            )),
        }
    }
}

/// A key id: the first 8 bytes of SHA-256 over the public key's SubjectPublicKeyInfo DER.
/// Written as base64url without padding (11 characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    pub fn of_spki(spki_der: &[u8]) -> Self {
        let digest = Sha256::digest(spki_der);
        let mut kid = [0; 8];
        kid.copy_from_slice(&digest[..8]);
        Self(kid)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl FromStr for KeyId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| format!("key id '{s}' is not base64url"))?;
        let kid: [u8; 8] = bytes
            .try_into()
            .map_err(|_| format!("key id '{s}' is not 8 bytes"))?;
        Ok(Self(kid))
    }
}

/// A key's problem: unreadable PEM, wrong type, bad point.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// A private key that signs passes.
pub struct SigningKey {
    inner: SigningInner,
    kid: KeyId,
}

enum SigningInner {
    Ed25519(ed25519_dalek::SigningKey),
    Es256(p256::ecdsa::SigningKey),
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate(alg: Algorithm, rng: &mut impl CryptoRngCore) -> Self {
        let inner = match alg {
            Algorithm::EdDsa => SigningInner::Ed25519(ed25519_dalek::SigningKey::generate(rng)),
            Algorithm::Es256 => SigningInner::Es256(p256::ecdsa::SigningKey::random(rng)),
        };
        Self::from_inner(inner)
    }

    fn from_inner(inner: SigningInner) -> Self {
        let public = match &inner {
            SigningInner::Ed25519(k) => VerifyingInner::Ed25519(k.verifying_key()),
            SigningInner::Es256(k) => VerifyingInner::Es256(*k.verifying_key()),
        };
        let kid = KeyId::of_spki(&public.spki_der());
        Self { inner, kid }
    }

    /// Reads a PKCS#8 PEM private key (Ed25519 or P-256).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            return Ok(Self::from_inner(SigningInner::Ed25519(k)));
        }
        p256::ecdsa::SigningKey::from_pkcs8_pem(pem)
            .map(|k| Self::from_inner(SigningInner::Es256(k)))
            .map_err(|_| {
                KeyError("not a PKCS#8 PEM private key for Ed25519 or P-256 (ES256)".into())
            })
    }

    /// The key as PKCS#8 PEM. Keep it secret.
    pub fn to_pkcs8_pem(&self) -> String {
        let pem = match &self.inner {
            SigningInner::Ed25519(k) => k.to_pkcs8_pem(LineEnding::LF),
            SigningInner::Es256(k) => k.to_pkcs8_pem(LineEnding::LF),
        };
        pem.map(|p| p.to_string())
            .expect("a valid in-memory key encodes as PKCS#8")
    }

    pub fn algorithm(&self) -> Algorithm {
        match self.inner {
            SigningInner::Ed25519(_) => Algorithm::EdDsa,
            SigningInner::Es256(_) => Algorithm::Es256,
        }
    }

    pub fn kid(&self) -> KeyId {
        self.kid
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        let inner = match &self.inner {
            SigningInner::Ed25519(k) => VerifyingInner::Ed25519(k.verifying_key()),
            SigningInner::Es256(k) => VerifyingInner::Es256(*k.verifying_key()),
        };
        VerifyingKey {
            inner,
            kid: self.kid,
        }
    }

    /// Signs `message`; ES256 signatures come as raw `r‖s`, 64 bytes.
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        use ed25519_dalek::Signer as _;
        match &self.inner {
            SigningInner::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            SigningInner::Es256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_bytes().to_vec()
            }
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        write!(f, "SigningKey({}, {})", self.algorithm(), self.kid)
    }
}

/// A public key that checks pass signatures.
#[derive(Clone, Debug)]
pub struct VerifyingKey {
    inner: VerifyingInner,
    kid: KeyId,
}

#[derive(Clone, Debug)]
enum VerifyingInner {
    Ed25519(ed25519_dalek::VerifyingKey),
    Es256(p256::ecdsa::VerifyingKey),
}

impl VerifyingInner {
    fn spki_der(&self) -> Vec<u8> {
        let der = match self {
            Self::Ed25519(k) => k.to_public_key_der(),
            Self::Es256(k) => k.to_public_key_der(),
        };
        der.map(|d| d.into_vec())
            .expect("a valid in-memory public key encodes as SPKI")
    }
}

impl VerifyingKey {
    /// An Ed25519 key from its 32 bytes.
    pub fn ed25519(bytes: &[u8]) -> Result<Self, KeyError> {
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
            KeyError(format!(
                "Ed25519 public key must be 32 bytes, got {}",
                bytes.len()
            ))
        })?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| KeyError("Ed25519 public key is not a valid curve point".into()))?;
        Ok(Self::from_inner(VerifyingInner::Ed25519(key)))
    }

    /// A P-256 key from its affine coordinates (32 bytes each).
    pub fn p256(x: &[u8], y: &[u8]) -> Result<Self, KeyError> {
        if x.len() != 32 || y.len() != 32 {
            return Err(KeyError("P-256 coordinates must be 32 bytes each".into()));
        }
        let mut sec1 = Vec::with_capacity(65);
        sec1.push(4);
        sec1.extend_from_slice(x);
        sec1.extend_from_slice(y);
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
            .map_err(|_| KeyError("P-256 public key is not a point on the curve".into()))?;
        Ok(Self::from_inner(VerifyingInner::Es256(key)))
    }

    fn from_inner(inner: VerifyingInner) -> Self {
        let kid = KeyId::of_spki(&inner.spki_der());
        Self { inner, kid }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self.inner {
            VerifyingInner::Ed25519(_) => Algorithm::EdDsa,
            VerifyingInner::Es256(_) => Algorithm::Es256,
        }
    }

    pub fn kid(&self) -> KeyId {
        self.kid
    }

    /// The SubjectPublicKeyInfo DER the key id is computed from.
    pub fn spki_der(&self) -> Vec<u8> {
        self.inner.spki_der()
    }

    /// Raw public parameters for a JWK: Ed25519 `x`, or P-256 `x` and `y`.
    pub(crate) fn jwk_params(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        match &self.inner {
            VerifyingInner::Ed25519(k) => (k.to_bytes().to_vec(), None),
            VerifyingInner::Es256(k) => {
                let point = k.to_encoded_point(false);
                // An uncompressed point of a valid key has both coordinates.
                let x = point
                    .x()
                    .map(|x| x.to_vec())
                    .expect("an uncompressed P-256 point has x");
                let y = point.y().map(|y| y.to_vec());
                (x, y)
            }
        }
    }

    /// The Ed25519 key, for batch verification.
    pub(crate) fn as_ed25519(&self) -> Option<&ed25519_dalek::VerifyingKey> {
        match &self.inner {
            VerifyingInner::Ed25519(k) => Some(k),
            VerifyingInner::Es256(_) => None,
        }
    }

    /// Checks `signature` over `message`. False on any mismatch or malformed signature.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        use ed25519_dalek::Verifier as _;
        match &self.inner {
            VerifyingInner::Ed25519(k) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|sig| k.verify(message, &sig).is_ok()),
            VerifyingInner::Es256(k) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| k.verify(message, &sig).is_ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_is_sha256_of_spki_prefix() {
        let key = SigningKey::generate(Algorithm::EdDsa, &mut rand_core::OsRng);
        let spki = key.verifying_key().spki_der();
        assert_eq!(spki.len(), 44, "Ed25519 SPKI is 12 bytes of header + 32");
        assert_eq!(key.kid().0, Sha256::digest(&spki)[..8]);
        assert_eq!(key.kid().to_string().parse::<KeyId>().unwrap(), key.kid());
    }

    #[test]
    fn pem_round_trip_both_algorithms() {
        for alg in [Algorithm::EdDsa, Algorithm::Es256] {
            let key = SigningKey::generate(alg, &mut rand_core::OsRng);
            let pem = key.to_pkcs8_pem();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
            let back = SigningKey::from_pkcs8_pem(&pem).unwrap();
            assert_eq!(back.kid(), key.kid());
            assert_eq!(back.algorithm(), alg);
        }
        assert!(SigningKey::from_pkcs8_pem("not a key").is_err());
    }

    #[test]
    fn signatures_verify_and_tampering_fails() {
        for alg in [Algorithm::EdDsa, Algorithm::Es256] {
            let key = SigningKey::generate(alg, &mut rand_core::OsRng);
            let sig = key.sign(b"message");
            assert_eq!(sig.len(), 64);
            let public = key.verifying_key();
            assert!(public.verify(b"message", &sig));
            assert!(!public.verify(b"messagf", &sig));
            assert!(!public.verify(b"message", &sig[..63]));
        }
    }
}
