//! # propusk-token: the pass token, v1
//!
//! A propusk pass is a QR code whose text carries its own signature, so that a
//! police officer's phone decides offline, in microseconds, whether it is valid.
//! This crate is everything a verifier needs and nothing more: no I/O, no async,
//! no clock of its own (time and revocations are inputs), no panics on any input.
//!
//! QR text = `PR1:` + base45(zlib(COSE_Sign1(CWT claims))):
//!
//! - [`PassClaims`]: the CWT claims (RFC 8392) `iss`, `iat`, `nbf`, `exp`, `cti` and
//!   the private claim -65537 (purpose, regime, holder hint, area, vehicle).
//! - COSE_Sign1 (RFC 9052), protected header `alg` (EdDSA or ES256) and `kid`
//!   (first 8 bytes of SHA-256 over the signer's SubjectPublicKeyInfo DER).
//! - zlib (RFC 1950; raw COSE accepted too), base45 (RFC 9285).
//!
//! ```
//! use propusk_token::*;
//! let key = SigningKey::generate(Algorithm::EdDsa, &mut rand_core::OsRng);
//! let claims = PassClaims {
//!     iss: "RU-MOW".into(), iat: 100, nbf: 100, exp: 200, pass_id: PassId([1; 16]),
//!     purpose: "shopping".into(), regime: "moscow-2020".into(),
//!     holder: "И.И. 4567".into(), area: None, vehicle: None,
//! };
//! let text = seal(&claims, &key, true);
//! let trust = TrustList::new([key.verifying_key()]);
//! assert_eq!(verify(&text, &trust, &NoRevocations, 150).name(), "valid");
//! assert_eq!(verify(&text, &trust, &NoRevocations, 200).name(), "expired");
//! ```
//!
//! The format is restated for third-party verifiers in `docs/token-format.md`.
//! Short codes ([`ShortCode`]) are a separate, unsigned, online-only lookup key.

mod base45;
mod claims;
mod envelope;
mod jwks;
mod keys;
mod loaner_key;
mod short_code;
mod verify;

pub use base45::{decode as base45_decode, encode as base45_encode, Base45Error};
pub use claims::{PassClaims, PassId, PASS_CLAIM};
pub use envelope::{seal, sign_cose, Malformed, MAX_TEXT_LEN, PREFIX};
pub use jwks::{Jwk, Jwks, JwksError, TrustList};
pub use keys::{Algorithm, KeyError, KeyId, SigningKey, VerifyingKey};
pub use loaner_key::{LoanerKey, LoanerKeyError};
pub use short_code::{ShortCode, ShortCodeError};
pub use verify::{verify, verify_many, NoRevocations, Pass, Revocations, Verdict, BATCH};

/// Re-exported so callers generate keys and codes with the same RNG traits.
pub use rand_core;
