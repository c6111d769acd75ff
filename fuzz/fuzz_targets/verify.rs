//! Fuzzes `propusk_token::verify`: whatever the input, it must return a verdict.
//!
//! The first byte picks how the rest reaches the verifier, so that mutations land
//! in every layer rather than dying at the `PR1:` prefix or the signature:
//!
//! - mode 0: the bytes as text (lossy UTF-8), as a scanned QR code would give them;
//! - mode 1: `PR1:` + base45(bytes): the zlib inflater, the raw-COSE rule, the
//!   COSE_Sign1 and protected-header parsers;
//! - mode 2: the bytes as the CWT payload of a COSE_Sign1 correctly signed by a
//!   trusted key: the claims parser, which is only reached after a good signature.
//!   Here the verdict must also never be `unknown_key` or `bad_signature`. With
//!   `flags = first byte / 3`: bit 0 set compresses with zlib; bits 1–3 all set
//!   sign with ES256 instead of Ed25519 (ES256 signing is ~10× slower, and past the
//!   signature both take the same path, so only 1 in 8 mode-2 inputs pays for it).

#![no_main]

use std::sync::OnceLock;

use ed25519_dalek::pkcs8::DecodePrivateKey;
use libfuzzer_sys::fuzz_target;
use propusk_token::{base45_encode, verify, NoRevocations, SigningKey, TrustList, Verdict};

/// RFC 8032 section 7.1 TEST 1 (the key of docs/token-format.md's worked example).
const ED25519_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
-----END PRIVATE KEY-----
";

/// A fixed P-256 test key (scalar = SHA-256 of "propusk fuzz es256 key").
const P256_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg7QrfMK1AJ6Ip1Fi1
Ovo3trdm4whc17zH6QK4f6qDg3GhRANCAAQOsURXCjLL7+WjEO5osXV/FF74Uyk3
ubkflyMELF1HX7TGPyljLKUNvZUK1VMY6a9ZZ29vQFNuJ8vU8NtER5YF
-----END PRIVATE KEY-----
";

/// Inside the worked example's validity window.
const NOW: i64 = 1_586_944_800;

struct Fixture {
    trust: TrustList,
    ed_kid: [u8; 8],
    ed: ed25519_dalek::SigningKey,
    es_kid: [u8; 8],
    es: p256::ecdsa::SigningKey,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let ed_key = SigningKey::from_pkcs8_pem(ED25519_PEM).expect("Ed25519 test key");
        let es_key = SigningKey::from_pkcs8_pem(P256_PEM).expect("P-256 test key");
        Fixture {
            trust: TrustList::new([ed_key.verifying_key(), es_key.verifying_key()]),
            ed_kid: ed_key.kid().0,
            ed: ed25519_dalek::SigningKey::from_pkcs8_pem(ED25519_PEM).expect("Ed25519"),
            es_kid: es_key.kid().0,
            es: p256::ecdsa::SigningKey::from_pkcs8_pem(P256_PEM).expect("P-256"),
        }
    })
}

/// A CBOR byte string (major type 2) holding `bytes`.
fn bstr(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len();
    match n {
        0..=23 => out.push(0x40 | n as u8),
        24..=0xFF => out.extend_from_slice(&[0x58, n as u8]),
        0x100..=0xFFFF => {
            out.push(0x59);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(0x5A);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
    out.extend_from_slice(bytes);
}

/// A tagged COSE_Sign1 over `payload`, signed as the format says.
fn signed_cose(payload: &[u8], es256: bool) -> Vec<u8> {
    let f = fixture();
    let (alg, kid) = if es256 {
        (0x26, f.es_kid)
    } else {
        (0x27, f.ed_kid)
    };
    // {1: alg, 4: h'kid'}
    let mut protected = vec![0xA2, 0x01, alg, 0x04, 0x48];
    protected.extend_from_slice(&kid);
    // ["Signature1", protected, h'', payload]
    let mut tbs = vec![0x84, 0x6A];
    tbs.extend_from_slice(b"Signature1");
    bstr(&mut tbs, &protected);
    bstr(&mut tbs, b"");
    bstr(&mut tbs, payload);
    let signature: Vec<u8> = if es256 {
        use p256::ecdsa::signature::Signer;
        let sig: p256::ecdsa::Signature = f.es.sign(&tbs);
        sig.to_bytes().to_vec()
    } else {
        use ed25519_dalek::Signer;
        f.ed.sign(&tbs).to_bytes().to_vec()
    };
    // 18([protected, {}, payload, signature])
    let mut cose = vec![0xD2, 0x84];
    bstr(&mut cose, &protected);
    cose.push(0xA0);
    bstr(&mut cose, payload);
    bstr(&mut cose, &signature);
    cose
}

fn pr1(bytes: &[u8]) -> String {
    format!("PR1:{}", base45_encode(bytes))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let trust = &fixture().trust;
    match selector % 3 {
        0 => {
            let text = String::from_utf8_lossy(rest);
            let _ = verify(&text, trust, &NoRevocations, NOW);
        }
        1 => {
            let _ = verify(&pr1(rest), trust, &NoRevocations, NOW);
        }
        _ => {
            let flags = selector / 3;
            let compress = flags & 1 == 1;
            let es256 = flags & 0b1110 == 0b1110;
            let cose = signed_cose(rest, es256);
            let bytes = if compress {
                miniz_oxide::deflate::compress_to_vec_zlib(&cose, 6)
            } else {
                cose
            };
            let verdict = verify(&pr1(&bytes), trust, &NoRevocations, NOW);
            assert!(
                !matches!(verdict, Verdict::UnknownKey(_) | Verdict::BadSignature(_)),
                "a correctly signed token got {verdict:?}"
            );
        }
    }
});
