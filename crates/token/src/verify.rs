//! Deciding what a token is worth: the verdict a verifier shows.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use crate::claims::{PassClaims, PassId};
use crate::envelope::{self, Malformed};
use crate::jwks::TrustList;
use crate::keys::{Algorithm, KeyId, VerifyingKey};

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
    verdict(verify_inner(text, trust), revoked, now)
}

/// Why a token's signature could not be accepted.
enum Rejected {
    Malformed(Malformed),
    UnknownKey(KeyId),
    BadSignature(KeyId),
}

fn verify_inner(text: &str, trust: &TrustList) -> Result<Pass, Rejected> {
    let token = Opened::open(text, trust)?;
    if !token.key.verify(&token.tbs, &token.signature) {
        return Err(Rejected::BadSignature(token.kid));
    }
    token.into_pass()
}

/// A token parsed as far as its signature, with the key that must have made it.
struct Opened<'t> {
    kid: KeyId,
    alg: Algorithm,
    key: &'t VerifyingKey,
    /// The COSE Sig_structure the signature is over.
    tbs: Vec<u8>,
    signature: Vec<u8>,
    payload: Vec<u8>,
}

impl<'t> Opened<'t> {
    fn open(text: &str, trust: &'t TrustList) -> Result<Self, Rejected> {
        let cose = envelope::unwrap_text(text).map_err(Rejected::Malformed)?;
        let env = envelope::open(&cose).map_err(Rejected::Malformed)?;
        let key = trust.get(&env.kid).ok_or(Rejected::UnknownKey(env.kid))?;
        // A header naming another algorithm than the key's is a forgery attempt, not a format
        // error.
        if key.algorithm() != env.alg {
            return Err(Rejected::BadSignature(env.kid));
        }
        let tbs = env.sign1.tbs_data(b"");
        Ok(Self {
            kid: env.kid,
            alg: env.alg,
            key,
            tbs,
            signature: env.sign1.signature,
            payload: env.payload,
        })
    }

    /// The pass, once its signature is known to be good.
    fn into_pass(self) -> Result<Pass, Rejected> {
        let claims = PassClaims::from_cbor(&self.payload)
            .map_err(|e| Rejected::Malformed(Malformed::Claims(e)))?;
        Ok(Pass {
            kid: self.kid,
            alg: self.alg,
            claims,
        })
    }
}

/// How many Ed25519 signatures [`verify_many`] checks together.
pub const BATCH: usize = 64;

/// Verifies many tokens, giving each the verdict [`verify`] gives it, in order.
///
/// Ed25519 signatures are checked [`BATCH`] at a time with one multi-scalar multiplication
/// (ed25519-dalek's `verify_batch`), which costs about half as much per signature as checking
/// them one by one. When a batch fails, its signatures are checked one by one to find the bad
/// ones, so a bad token costs its batch a second look but never changes another token's
/// verdict. ES256 signatures are checked one by one.
///
/// Batch verification accepts exactly the signatures the single check accepts, except for
/// signatures built with small-order points on purpose, which only the holder of the private
/// key can make: the issuing authority, whom a verifier trusts anyway.
pub fn verify_many(
    texts: &[&str],
    trust: &TrustList,
    revoked: &impl Revocations,
    now: i64,
) -> Vec<Verdict> {
    let mut signed: Vec<Result<Pass, Rejected>> = Vec::with_capacity(texts.len());
    // Ed25519 tokens waiting for their batch: (position, token, signature).
    let mut batch: Vec<(usize, Opened<'_>, ed25519_dalek::Signature)> = Vec::with_capacity(BATCH);
    for text in texts {
        let at = signed.len();
        signed.push(Err(Rejected::Malformed(Malformed::Empty)));
        let token = match Opened::open(text, trust) {
            Ok(token) => token,
            Err(rejected) => {
                signed[at] = Err(rejected);
                continue;
            }
        };
        match (
            token.key.as_ed25519(),
            ed25519_dalek::Signature::from_slice(&token.signature),
        ) {
            (Some(_), Ok(sig)) => {
                batch.push((at, token, sig));
                if batch.len() == BATCH {
                    check_batch(&mut batch, &mut signed);
                }
            }
            _ => {
                signed[at] = if token.key.verify(&token.tbs, &token.signature) {
                    token.into_pass()
                } else {
                    Err(Rejected::BadSignature(token.kid))
                };
            }
        }
    }
    check_batch(&mut batch, &mut signed);
    signed
        .into_iter()
        .map(|result| verdict(result, revoked, now))
        .collect()
}

/// Checks the waiting Ed25519 tokens together (one by one if that fails) and records each
/// one's result.
fn check_batch<'t>(
    batch: &mut Vec<(usize, Opened<'t>, ed25519_dalek::Signature)>,
    signed: &mut [Result<Pass, Rejected>],
) {
    if batch.is_empty() {
        return;
    }
    let messages: Vec<&[u8]> = batch.iter().map(|(_, t, _)| t.tbs.as_slice()).collect();
    let signatures: Vec<ed25519_dalek::Signature> = batch.iter().map(|(_, _, s)| *s).collect();
    let keys: Vec<ed25519_dalek::VerifyingKey> = batch
        .iter()
        .filter_map(|(_, t, _)| t.key.as_ed25519().copied())
        .collect();
    let all_good = keys.len() == batch.len()
        && ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok();
    for (at, token, _) in batch.drain(..) {
        signed[at] = if all_good || token.key.verify(&token.tbs, &token.signature) {
            token.into_pass()
        } else {
            Err(Rejected::BadSignature(token.kid))
        };
    }
}

fn verdict(result: Result<Pass, Rejected>, revoked: &impl Revocations, now: i64) -> Verdict {
    match result {
        Ok(pass) if revoked.is_revoked(&pass.claims.pass_id) => Verdict::Revoked(pass),
        Ok(pass) if now < pass.claims.nbf => Verdict::NotYetValid(pass),
        Ok(pass) if now >= pass.claims.exp => Verdict::Expired(pass),
        Ok(pass) => Verdict::Valid(pass),
        Err(Rejected::Malformed(m)) => Verdict::Malformed(m),
        Err(Rejected::UnknownKey(kid)) => Verdict::UnknownKey(kid),
        Err(Rejected::BadSignature(kid)) => Verdict::BadSignature(kid),
    }
}
