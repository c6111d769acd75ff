//! Deciding what a token is worth: the verdict a verifier shows.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use crate::claims::{PassClaims, PassId};
use crate::envelope::{self, Malformed};
use crate::jwks::TrustList;
use crate::keys::{Algorithm, KeyId};

/// The ids of revoked passes, as a verifier knows them.
pub trait Revocations {
    fn is_revoked(&self, id: &PassId) -> bool;
}

impl Revocations for HashSet<PassId> {
    fn is_revoked(&self, id: &PassId) -> bool {
        self.contains(id)
    }
}

impl Revocations for BTreeSet<PassId> {
    fn is_revoked(&self, id: &PassId) -> bool {
        self.contains(id)
    }
}

/// No revocation list at hand.
pub struct NoRevocations;

impl Revocations for NoRevocations {
    fn is_revoked(&self, _: &PassId) -> bool {
        false
    }
}

impl<F: Fn(&PassId) -> bool> Revocations for F {
    fn is_revoked(&self, id: &PassId) -> bool {
        self(id)
    }
}

/// A pass whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass {
    pub kid: KeyId,
    pub alg: Algorithm,
    pub claims: PassClaims,
}

/// What a verifier answers. Only `Valid` lets the holder through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid(Pass),
    Expired(Pass),
    NotYetValid(Pass),
    Revoked(Pass),
    UnknownKey(KeyId),
    BadSignature(KeyId),
    Malformed(Malformed),
}

impl Verdict {
    /// The stable name of the verdict, as DESIGN.md lists them.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Valid(_) => "valid",
            Self::Expired(_) => "expired",
            Self::NotYetValid(_) => "not_yet_valid",
            Self::Revoked(_) => "revoked",
            Self::UnknownKey(_) => "unknown_key",
            Self::BadSignature(_) => "bad_signature",
            Self::Malformed(_) => "malformed",
        }
    }

    pub fn is_valid(&self) -> bool {
        matches!(self, Self::Valid(_))
    }

    /// The signed pass, when the signature checked out.
    pub fn pass(&self) -> Option<&Pass> {
        match self {
            Self::Valid(p) | Self::Expired(p) | Self::NotYetValid(p) | Self::Revoked(p) => Some(p),
            _ => None,
        }
    }

    pub fn kid(&self) -> Option<KeyId> {
        match self {
            Self::UnknownKey(k) | Self::BadSignature(k) => Some(*k),
            other => other.pass().map(|p| p.kid),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(reason) => write!(f, "malformed: {reason}"),
            other => f.write_str(other.name()),
        }
    }
}

/// Verifies a token's QR text at `now` (Unix seconds), offline: the signature
/// against `trust`, then revocation, then the validity window (`nbf` inclusive,
/// `exp` exclusive). Never panics, whatever the input.
pub fn verify(text: &str, trust: &TrustList, revoked: &impl Revocations, now: i64) -> Verdict {
    match verify_inner(text, trust) {
        Ok(pass) if revoked.is_revoked(&pass.claims.pass_id) => Verdict::Revoked(pass),
        Ok(pass) if now < pass.claims.nbf => Verdict::NotYetValid(pass),
        Ok(pass) if now >= pass.claims.exp => Verdict::Expired(pass),
        Ok(pass) => Verdict::Valid(pass),
        Err(Rejected::Malformed(m)) => Verdict::Malformed(m),
        Err(Rejected::UnknownKey(kid)) => Verdict::UnknownKey(kid),
        Err(Rejected::BadSignature(kid)) => Verdict::BadSignature(kid),
    }
}

/// Why a token's signature could not be accepted.
enum Rejected {
    Malformed(Malformed),
    UnknownKey(KeyId),
    BadSignature(KeyId),
}

fn verify_inner(text: &str, trust: &TrustList) -> Result<Pass, Rejected> {
    let cose = envelope::unwrap_text(text).map_err(Rejected::Malformed)?;
    let env = envelope::open(&cose).map_err(Rejected::Malformed)?;
    let key = trust.get(&env.kid).ok_or(Rejected::UnknownKey(env.kid))?;
    // A header naming another algorithm than the key's is a forgery attempt, not a format error.
    if key.algorithm() != env.alg {
        return Err(Rejected::BadSignature(env.kid));
    }
    env.sign1
        .verify_signature(b"", |sig, data| {
            if key.verify(data, sig) {
                Ok(())
            } else {
                Err(())
            }
        })
        .map_err(|()| Rejected::BadSignature(env.kid))?;
    let payload = env.sign1.payload.as_deref().unwrap_or_default();
    let claims =
        PassClaims::from_cbor(payload).map_err(|e| Rejected::Malformed(Malformed::Claims(e)))?;
    Ok(Pass {
        kid: env.kid,
        alg: env.alg,
        claims,
    })
}
