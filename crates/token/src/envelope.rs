//! The layers around the claims: COSE_Sign1 (RFC 9052), zlib (RFC 1950),
//! base45 (RFC 9285) and the `PR1:` prefix.

use std::fmt;

use coset::{
    iana, AsCborValue, CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable,
};

use crate::base45::{self, Base45Error};
use crate::claims::PassClaims;
use crate::keys::{Algorithm, KeyId, SigningKey};

/// The QR text of every v1 token starts with this.
pub const PREFIX: &str = "PR1:";

/// Longest QR text accepted. A v1 token is ~200–300 characters; the bound keeps
/// hostile input cheap to reject.
pub const MAX_TEXT_LEN: usize = 4096;

/// Largest decompressed envelope accepted (a guard against zlib bombs).
const MAX_COSE_LEN: usize = 8192;

/// The tagged COSE_Sign1 starts with CBOR tag 18: major type 6, value 18.
const COSE_SIGN1_TAG_BYTE: u8 = 0xD2;
const COSE_SIGN1_TAG: u64 = 18;

/// Why a text is not a well-formed pass token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    Empty,
    TooLong(usize),
    WrongPrefix,
    Base45(Base45Error),
    Zlib,
    Cose(String),
    UnsupportedAlgorithm(String),
    BadKeyId,
    Claims(String),
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty token"),
            Self::TooLong(n) => write!(
                f,
                "token is {n} characters long; at most {MAX_TEXT_LEN} are accepted"
            ),
            Self::WrongPrefix => write!(f, "token does not start with '{PREFIX}'"),
            Self::Base45(e) => write!(f, "{e}"),
            Self::Zlib => f.write_str(
                "payload is neither zlib-compressed nor a raw COSE_Sign1 (corrupt or truncated)",
            ),
            Self::Cose(e) => write!(f, "not a COSE_Sign1 structure (CBOR tag 18): {e}"),
            Self::UnsupportedAlgorithm(a) => write!(
                f,
                "signature algorithm {a} is not supported (expected EdDSA -8 or ES256 -7)"
            ),
            Self::BadKeyId => f.write_str("protected header has no 8-byte key id (kid, label 4)"),
            Self::Claims(e) => write!(f, "{e}"),
        }
    }
}

/// A parsed but not yet verified token.
pub(crate) struct Envelope {
    pub alg: Algorithm,
    pub kid: KeyId,
    /// The claims as signed (a token without them is malformed).
    pub payload: Vec<u8>,
    pub sign1: CoseSign1,
}

/// Signs `claims` and returns the QR text. `compress: false` leaves out zlib, which
/// the format allows (decoders accept both); propusk always compresses.
pub fn seal(claims: &PassClaims, key: &SigningKey, compress: bool) -> String {
    let cose = sign_cose(claims, key);
    let bytes = if compress {
        miniz_oxide::deflate::compress_to_vec_zlib(&cose, 9)
    } else {
        cose
    };
    let mut text = String::from(PREFIX);
    text.push_str(&base45::encode(&bytes));
    text
}

/// The signed, tagged COSE_Sign1 bytes for `claims`.
pub fn sign_cose(claims: &PassClaims, key: &SigningKey) -> Vec<u8> {
    let alg = match key.algorithm() {
        Algorithm::EdDsa => iana::Algorithm::EdDSA,
        Algorithm::Es256 => iana::Algorithm::ES256,
    };
    let protected = HeaderBuilder::new()
        .algorithm(alg)
        .key_id(key.kid().0.to_vec())
        .build();
    CoseSign1Builder::new()
        .protected(protected)
        .payload(claims.to_cbor())
        .create_signature(b"", |tbs| key.sign(tbs))
        .build()
        .to_tagged_vec()
        .expect("a freshly built COSE_Sign1 of plain values serializes")
}

/// Peels the text layers off a token: prefix, base45, zlib.
pub(crate) fn unwrap_text(text: &str) -> Result<Vec<u8>, Malformed> {
    let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if text.is_empty() {
        return Err(Malformed::Empty);
    }
    if text.len() > MAX_TEXT_LEN {
        return Err(Malformed::TooLong(text.len()));
    }
    let body = text.strip_prefix(PREFIX).ok_or(Malformed::WrongPrefix)?;
    let bytes = base45::decode(body).map_err(Malformed::Base45)?;
    if bytes.first() == Some(&COSE_SIGN1_TAG_BYTE) {
        return Ok(bytes);
    }
    inflate_exact(&bytes).ok_or(Malformed::Zlib)
}

/// Inflates one whole zlib stream (header, deflate data, Adler-32) that must use
/// every input byte: bytes after the stream would give one pass many QR texts.
fn inflate_exact(input: &[u8]) -> Option<Vec<u8>> {
    use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
    use miniz_oxide::inflate::TINFLStatus;
    let flags = inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER
        | inflate_flags::TINFL_FLAG_COMPUTE_ADLER32
        | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let mut out = vec![0; MAX_COSE_LEN];
    let mut state = Box::<DecompressorOxide>::default();
    match decompress(&mut state, input, &mut out, 0, flags) {
        (TINFLStatus::Done, consumed, written) if consumed == input.len() => {
            out.truncate(written);
            Some(out)
        }
        _ => None,
    }
}

/// Parses the COSE_Sign1 and its protected header.
pub(crate) fn open(cose: &[u8]) -> Result<Envelope, Malformed> {
    let mut reader = std::io::Cursor::new(cose);
    let value: ciborium::value::Value = ciborium::de::from_reader(&mut reader)
        .map_err(|e| Malformed::Cose(format!("not CBOR: {e}")))?;
    if reader.position() != cose.len() as u64 {
        return Err(Malformed::Cose(
            "bytes follow the COSE_Sign1 structure".into(),
        ));
    }
    let ciborium::value::Value::Tag(COSE_SIGN1_TAG, inner) = value else {
        return Err(Malformed::Cose("not tagged 18".into()));
    };
    let sign1 = CoseSign1::from_cbor_value(*inner).map_err(|e| Malformed::Cose(e.to_string()))?;
    let header = &sign1.protected.header;
    let alg = match &header.alg {
        Some(coset::RegisteredLabelWithPrivate::Assigned(a)) => Algorithm::from_cose_id(*a as i64)
            .ok_or_else(|| Malformed::UnsupportedAlgorithm(format!("{}", *a as i64)))?,
        Some(other) => return Err(Malformed::UnsupportedAlgorithm(format!("{other:?}"))),
        None => return Err(Malformed::UnsupportedAlgorithm("(none)".into())),
    };
    let kid: [u8; 8] = header
        .key_id
        .as_slice()
        .try_into()
        .map_err(|_| Malformed::BadKeyId)?;
    let Some(payload) = sign1.payload.clone() else {
        return Err(Malformed::Cose("payload is detached or nil".into()));
    };
    Ok(Envelope {
        alg,
        kid: KeyId(kid),
        payload,
        sign1,
    })
}
