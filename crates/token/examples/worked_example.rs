//! Prints every layer of one pass token, for the worked example in `docs/token-format.md`.
//!
//! Ed25519 signatures are deterministic, so with a fixed key and fixed claims every
//! byte below is reproducible:
//!
//! ```text
//! cargo run -p propusk-token --example worked_example
//! ```
//!
//! The key is the RFC 8032 section 7.1 TEST 1 key: public test data, never a real one.
//! Each layer is rebuilt here by hand (CBOR, Sig_structure, zlib, base45) and checked
//! against what the crate's `seal` produces, so the printout is the format, not just
//! the crate's output.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ciborium::value::Value;
use propusk_token::*;
use sha2::{Digest, Sha256};

/// RFC 8032, section 7.1, TEST 1: the secret key (seed).
const SEED_HEX: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
/// Inside the validity window: 2020-04-15T10:00:00Z.
const NOW: i64 = 1_586_944_800;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Hex wrapped at 64 digits a line, so the doc stays readable.
fn hex_block(bytes: &[u8]) -> String {
    let h = hex(bytes);
    h.as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn text_block(s: &str) -> String {
    s.as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// CBOR diagnostic notation (RFC 8949 section 8) for the value kinds a token uses.
fn diag(v: &Value, indent: usize) -> String {
    let pad = "  ".repeat(indent + 1);
    let end = "  ".repeat(indent);
    match v {
        Value::Integer(i) => i128::from(*i).to_string(),
        Value::Bytes(b) => format!("h'{}'", hex(b)),
        Value::Text(t) => format!("{t:?}"),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Float(f) => f.to_string(),
        Value::Tag(t, inner) => format!("{t}({})", diag(inner, indent)),
        Value::Array(items) => {
            let items: Vec<_> = items.iter().map(|i| diag(i, indent + 1)).collect();
            format!("[\n{pad}{}\n{end}]", items.join(&format!(",\n{pad}")))
        }
        Value::Map(entries) if entries.is_empty() => "{}".into(),
        Value::Map(entries) => {
            let items: Vec<_> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", diag(k, indent + 1), diag(v, indent + 1)))
                .collect();
            format!("{{\n{pad}{}\n{end}}}", items.join(&format!(",\n{pad}")))
        }
        other => format!("{other:?}"),
    }
}

fn cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).expect("CBOR of plain values");
    out
}

fn section(title: &str, body: &str) {
    println!("## {title}\n{body}\n");
}

fn main() {
    // The key, as the RFC 8410 PKCS#8 form of the 32-byte seed.
    let seed = unhex(SEED_HEX);
    let mut pkcs8 = unhex("302e020100300506032b657004220420");
    pkcs8.extend_from_slice(&seed);
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(&pkcs8)
    );
    let key = SigningKey::from_pkcs8_pem(&pem).expect("the RFC 8032 test key");
    let public = key.verifying_key();

    let spki = public.spki_der();
    let digest = Sha256::digest(&spki);
    assert_eq!(key.kid().0, digest[..8]);
    let jwks = Jwks::from_keys([&public]).to_json();

    let claims = PassClaims {
        iss: "RU-MOW".into(),
        iat: 1_586_937_600,
        nbf: 1_586_937_600,
        exp: 1_586_948_400,
        pass_id: "00112233-4455-6677-8899-aabbccddeeff"
            .parse()
            .expect("uuid"),
        purpose: "shopping".into(),
        regime: "moscow-2020".into(),
        holder: "И.И. 4567".into(),
        area: None,
        vehicle: None,
    };
    let payload = claims.to_cbor();
    let payload_value: Value = ciborium::de::from_reader(&payload[..]).expect("claims CBOR");

    // Protected header {1: -8, 4: h'<kid>'}, built by hand and checked against the crate's.
    let protected = cbor(&Value::Map(vec![
        (Value::Integer(1.into()), Value::Integer((-8).into())),
        (Value::Integer(4.into()), Value::Bytes(key.kid().0.to_vec())),
    ]));
    let sig_structure = cbor(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.clone()),
        Value::Bytes(vec![]),
        Value::Bytes(payload.clone()),
    ]));

    let cose = sign_cose(&claims, &key);
    let cose_value: Value = ciborium::de::from_reader(&cose[..]).expect("COSE CBOR");
    let Value::Tag(18, inner) = &cose_value else {
        panic!("not tag 18")
    };
    let Value::Array(parts) = inner.as_ref() else {
        panic!("not an array")
    };
    let (
        Value::Bytes(cose_protected),
        Value::Map(unprotected),
        Value::Bytes(cose_payload),
        Value::Bytes(signature),
    ) = (&parts[0], &parts[1], &parts[2], &parts[3])
    else {
        panic!("not a COSE_Sign1")
    };
    assert_eq!(cose_protected, &protected, "protected header");
    assert!(unprotected.is_empty());
    assert_eq!(cose_payload, &payload);
    assert_eq!(signature.len(), 64);
    assert!(
        public.verify(&sig_structure, signature),
        "signature over Sig_structure"
    );
    // Rebuild the COSE_Sign1 by hand too.
    let rebuilt = cbor(&Value::Tag(
        18,
        Box::new(Value::Array(vec![
            Value::Bytes(protected.clone()),
            Value::Map(vec![]),
            Value::Bytes(payload.clone()),
            Value::Bytes(signature.clone()),
        ])),
    ));
    assert_eq!(rebuilt, cose);

    let zlib = miniz_oxide::deflate::compress_to_vec_zlib(&cose, 9);
    let text = format!("{PREFIX}{}", base45_encode(&zlib));
    assert_eq!(
        text,
        seal(&claims, &key, true),
        "seal = PR1: + base45(zlib level 9)"
    );
    let raw_text = format!("{PREFIX}{}", base45_encode(&cose));
    assert_eq!(raw_text, seal(&claims, &key, false));

    let trust = TrustList::from_jwks_json(&jwks).expect("JWKS");
    let verdict = verify(&text, &trust, &NoRevocations, NOW);
    assert!(verdict.is_valid(), "{verdict}");
    assert!(verify(&raw_text, &trust, &NoRevocations, NOW).is_valid());

    section("Private key (PKCS#8 PEM, RFC 8410)", pem.trim_end());
    section(
        "Ed25519 public key (32 bytes; the last 32 bytes of the SPKI)",
        &hex(&spki[spki.len() - 32..]),
    );
    section(
        &format!("SubjectPublicKeyInfo DER ({} bytes)", spki.len()),
        &hex_block(&spki),
    );
    section("SHA-256 of the SPKI DER", &hex(&digest));
    section(
        "kid (first 8 bytes)",
        &format!("hex:       {}\nbase64url: {}", hex(&key.kid().0), key.kid()),
    );
    section("JWKS", &jwks);
    section(
        &format!("Claims CBOR ({} bytes)", payload.len()),
        &hex_block(&payload),
    );
    section("Claims, diagnostic notation", &diag(&payload_value, 0));
    section(
        &format!("Protected header ({} bytes)", protected.len()),
        &format!(
            "{}\n{}",
            hex(&protected),
            diag(&ciborium::de::from_reader(&protected[..]).expect("cbor"), 0)
        ),
    );
    section(
        &format!("Sig_structure ({} bytes)", sig_structure.len()),
        &hex_block(&sig_structure),
    );
    section("Signature (64 bytes)", &hex_block(signature));
    section(
        &format!("COSE_Sign1 ({} bytes)", cose.len()),
        &hex_block(&cose),
    );
    section("COSE_Sign1, diagnostic notation", &diag(&cose_value, 0));
    section(
        &format!("zlib, miniz_oxide level 9 ({} bytes)", zlib.len()),
        &hex_block(&zlib),
    );
    section(
        &format!("QR text ({} characters)", text.len()),
        &text_block(&text),
    );
    section(
        &format!("QR text without zlib ({} characters)", raw_text.len()),
        &text_block(&raw_text),
    );
    // A short code, typed with a Cyrillic keyboard and spaces, reads as its canonical form.
    let typed = "7к3 qх9 4мм";
    let code: ShortCode = typed.parse().expect("a valid short code");
    section(
        "Short code",
        &format!(
            "typed {typed:?} -> {code} (compact {}); 7K3-QX9-4MP -> {}",
            code.compact(),
            "7K3-QX9-4MP".parse::<ShortCode>().unwrap_err()
        ),
    );
    section(
        &format!("verify at {NOW}"),
        &format!(
            "{} (pass id {}, kid {})",
            verdict.name(),
            claims.pass_id,
            key.kid()
        ),
    );
}
