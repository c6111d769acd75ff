//! The worked example of `docs/token-format.md`, pinned: if the token code changes
//! what it reads or writes, this test fails and the document must be updated with
//! `cargo run -p propusk-token --example worked_example`.

use propusk_token::*;

/// The doc's "JWKS" (the RFC 8032 section 7.1 TEST 1 public key).
const JWKS: &str = r#"{
  "keys": [
    {
      "kty": "OKP",
      "crv": "Ed25519",
      "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
      "kid": "BuP9j9opu2A",
      "alg": "EdDSA",
      "use": "sig"
    }
  ]
}"#;

/// The doc's "QR text".
const QR_TEXT: &str = concat!(
    "PR1:NCFN90%10FFWTWGSLK/-4X490$SG8IIC5V9CP7BH:K4.CPYA Y910B0F3N3J",
    "8360F3Q2J6000F3Q2J70055AL72TL6$ZA05F8JJGXNO2S/BW100000ERK99D59DT",
    "9EZED01D6QD14EUPC:2FNF6NF6KJ0UGQE-5XAJ934WW6%:6P58XZ7FO5CITOPJ0+",
    "41II/ZLZ+0FDSUSV K5L4NSQ1WYH%S1M9LXWAYAB$TB+NQA I0%LGEUP9TIX5WPO",
    "Q$0KMC93OCB5  U0*00T970",
);

/// The doc's "QR text without zlib".
const QR_TEXT_RAW: &str = concat!(
    "PR1:RRQT 9P60GO08*0L2W4QR/UN8CKS3B/70HIAWW5G1AFN04/BQLT1T04/BQ6O",
    "WY04/BQ6OR-0H00PE4XS8-.C4CHCQLK+PS9U/E7V50S30080OQE/3EM9E3/DYD0P",
    "$DJQE54E5W5846636FSDXAJUGQI$50R6J%627B$G806L9-Q9UJSDPW L/+HS1EQO",
    "5R-QXA8PZ61CN67JOQIS VTEP$WR8BTJE8O0S4GO7ZP8-Q4J2WXD9YB/SJ77SP7D",
    "4EHO1P",
);

/// The doc's private key: RFC 8410 PKCS#8 of the RFC 8032 TEST 1 seed (public test data).
const PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
-----END PRIVATE KEY-----
";

const NBF: i64 = 1_586_937_600; // 2020-04-15T08:00:00Z
const EXP: i64 = 1_586_948_400; // 2020-04-15T11:00:00Z

fn expected_claims() -> PassClaims {
    PassClaims {
        iss: "RU-MOW".into(),
        iat: NBF,
        nbf: NBF,
        exp: EXP,
        pass_id: "00112233-4455-6677-8899-aabbccddeeff".parse().unwrap(),
        purpose: "shopping".into(),
        regime: "moscow-2020".into(),
        holder: "И.И. 4567".into(),
        area: None,
        vehicle: None,
    }
}

#[test]
fn doc_token_verifies_with_doc_jwks() {
    let trust = TrustList::from_jwks_json(JWKS).expect("the doc's JWKS");
    for text in [QR_TEXT, QR_TEXT_RAW] {
        let verdict = verify(text, &trust, &NoRevocations, 1_586_944_800);
        assert_eq!(verdict.name(), "valid", "{verdict}");
        let pass = verdict.pass().unwrap();
        assert_eq!(pass.claims, expected_claims());
        assert_eq!(pass.alg, Algorithm::EdDsa);
        assert_eq!(pass.kid.to_string(), "BuP9j9opu2A");
        assert_eq!(
            pass.claims.pass_id.to_string(),
            "00112233-4455-6677-8899-aabbccddeeff"
        );
    }
}

#[test]
fn doc_token_window_and_revocation() {
    let trust = TrustList::from_jwks_json(JWKS).unwrap();
    let at = |now| verify(QR_TEXT, &trust, &NoRevocations, now).name();
    assert_eq!(at(NBF - 1), "not_yet_valid");
    assert_eq!(at(NBF), "valid");
    assert_eq!(at(EXP - 1), "valid");
    assert_eq!(at(EXP), "expired");
    let revoked = |id: &PassId| id.to_string() == "00112233-4455-6677-8899-aabbccddeeff";
    assert_eq!(verify(QR_TEXT, &trust, &revoked, EXP).name(), "revoked");
    assert_eq!(
        verify(QR_TEXT, &TrustList::default(), &NoRevocations, NBF).name(),
        "unknown_key"
    );
}

#[test]
fn doc_token_is_what_the_encoder_writes() {
    let key = SigningKey::from_pkcs8_pem(PEM).unwrap();
    assert_eq!(key.kid().to_string(), "BuP9j9opu2A");
    assert_eq!(Jwks::from_keys([&key.verifying_key()]).to_json(), JWKS);
    assert_eq!(seal(&expected_claims(), &key, true), QR_TEXT);
    assert_eq!(seal(&expected_claims(), &key, false), QR_TEXT_RAW);
}

#[test]
fn doc_short_code() {
    let code: ShortCode = "7к3 qх9 4мм".parse().unwrap();
    assert_eq!(code.to_string(), "7K3-QX9-4MM");
    assert_eq!(code.compact(), "7K3QX94MM");
    assert_eq!(
        "7K3-QX9-4MP".parse::<ShortCode>(),
        Err(ShortCodeError::CheckFailed)
    );
    assert_eq!(
        "7K3-QX9-M4M".parse::<ShortCode>(),
        Err(ShortCodeError::CheckFailed)
    );
}
