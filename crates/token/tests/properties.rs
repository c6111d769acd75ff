//! Property tests: tokens round-trip, and tampering never yields a pass.

use proptest::prelude::*;
use propusk_token::*;

fn claims_strategy() -> impl Strategy<Value = PassClaims> {
    (
        "[A-Z]{2}-[A-Z]{2,3}",
        0i64..4_000_000_000,
        0i64..1_000_000,
        any::<[u8; 16]>(),
        "[a-z_]{1,20}",
        "[a-z0-9-]{1,20}",
        "\\PC{1,12}",
        proptest::option::of("\\PC{0,10}"),
        proptest::option::of("[А-Я0-9]{0,9}"),
    )
        .prop_map(
            |(iss, nbf, len, id, purpose, regime, holder, area, vehicle)| PassClaims {
                iss,
                iat: nbf,
                nbf,
                exp: nbf + len + 1,
                pass_id: PassId(id),
                purpose,
                regime,
                holder,
                area,
                vehicle,
            },
        )
}

fn keys() -> Vec<SigningKey> {
    [Algorithm::EdDsa, Algorithm::Es256]
        .into_iter()
        .map(|alg| SigningKey::generate(alg, &mut rand_core::OsRng))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip(claims in claims_strategy(), compress in any::<bool>(), which in 0usize..2) {
        let keys = keys();
        let key = &keys[which];
        let text = seal(&claims, key, compress);
        prop_assert!(text.starts_with("PR1:"));
        let trust = TrustList::new(keys.iter().map(SigningKey::verifying_key));
        let verdict = verify(&text, &trust, &NoRevocations, claims.nbf);
        prop_assert_eq!(verdict.name(), "valid");
        prop_assert_eq!(&verdict.pass().unwrap().claims, &claims);
        prop_assert_eq!(verify(&text, &trust, &NoRevocations, claims.exp).name(), "expired");
        prop_assert_eq!(verify(&text, &trust, &NoRevocations, claims.nbf - 1).name(), "not_yet_valid");
    }

    /// Any single-byte change to the signed envelope (the COSE_Sign1 bytes) is rejected.
    #[test]
    fn any_byte_change_to_the_signed_envelope_is_rejected(
        claims in claims_strategy(), which in 0usize..2, pos in any::<prop::sample::Index>(), delta in 1u8..=255,
    ) {
        let keys = keys();
        let trust = TrustList::new(keys.iter().map(SigningKey::verifying_key));
        let mut cose = sign_cose(&claims, &keys[which]);
        let i = pos.index(cose.len());
        cose[i] = cose[i].wrapping_add(delta);
        let text = format!("PR1:{}", base45_encode(&cose));
        let verdict = verify(&text, &trust, &NoRevocations, claims.nbf);
        prop_assert!(!verdict.is_valid(), "byte {} changed, still valid", i);
    }

    /// A single changed character of the QR text never yields a valid pass with other
    /// claims. (It may yield the same pass: zlib's header level bits and the padding
    /// bits of the last deflate byte are not covered by any checksum, and such a
    /// change alters nothing that was signed.)
    #[test]
    fn any_character_change_to_the_text_never_forges(
        claims in claims_strategy(), which in 0usize..2, pos in any::<prop::sample::Index>(), c in 0usize..45,
    ) {
        let keys = keys();
        let trust = TrustList::new(keys.iter().map(SigningKey::verifying_key));
        let text = seal(&claims, &keys[which], true);
        let mut bytes = text.into_bytes();
        let i = 4 + pos.index(bytes.len() - 4);
        let replacement = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"[c];
        prop_assume!(bytes[i] != replacement);
        bytes[i] = replacement;
        let mutated = String::from_utf8(bytes).unwrap();
        if let Verdict::Valid(pass) = verify(&mutated, &trust, &NoRevocations, claims.nbf) {
            prop_assert_eq!(pass.claims, claims);
        }
    }

    /// Arbitrary text never panics the verifier.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}", b45 in "[0-9A-Z $%*+./:-]{0,400}") {
        let trust = TrustList::new(keys().iter().map(SigningKey::verifying_key));
        let _ = verify(&text, &trust, &NoRevocations, 0);
        let v = verify(&format!("PR1:{b45}"), &trust, &NoRevocations, 0);
        prop_assert!(!v.is_valid());
    }
}

#[test]
fn revoked_and_unknown_key_and_wrong_prefix() {
    let keys = keys();
    let claims = PassClaims {
        iss: "RU-MOW".into(),
        iat: 10,
        nbf: 10,
        exp: 20,
        pass_id: PassId([9; 16]),
        purpose: "pet".into(),
        regime: "moscow-2020".into(),
        holder: "A.B. 1234".into(),
        area: None,
        vehicle: None,
    };
    let text = seal(&claims, &keys[0], true);
    let trust = TrustList::new([keys[0].verifying_key()]);
    let revoked: std::collections::HashSet<PassId> = [PassId([9; 16])].into();
    assert_eq!(verify(&text, &trust, &revoked, 15).name(), "revoked");
    let other = TrustList::new([keys[1].verifying_key()]);
    assert_eq!(
        verify(&text, &other, &NoRevocations, 15),
        Verdict::UnknownKey(keys[0].kid())
    );
    let wrong = text.replacen("PR1:", "PR2:", 1);
    assert_eq!(
        verify(&wrong, &trust, &NoRevocations, 15),
        Verdict::Malformed(Malformed::WrongPrefix)
    );
    let truncated = &text[..text.len() - 10];
    assert_eq!(
        verify(truncated, &trust, &NoRevocations, 15).name(),
        "malformed"
    );
}

#[test]
fn bytes_after_the_zlib_stream_are_rejected() {
    let key = SigningKey::generate(Algorithm::EdDsa, &mut rand_core::OsRng);
    let claims = PassClaims {
        iss: "RU-MOW".into(),
        iat: 10,
        nbf: 10,
        exp: 20,
        pass_id: PassId([3; 16]),
        purpose: "trash".into(),
        regime: "moscow-2020".into(),
        holder: "A.B. 1234".into(),
        area: None,
        vehicle: None,
    };
    let trust = TrustList::new([key.verifying_key()]);
    let text = seal(&claims, &key, true);
    let mut bytes = base45_decode(&text[4..]).unwrap();
    assert_eq!(verify(&text, &trust, &NoRevocations, 15).name(), "valid");
    bytes.extend_from_slice(b"JUNK");
    let junk = format!("PR1:{}", base45_encode(&bytes));
    assert_eq!(
        verify(&junk, &trust, &NoRevocations, 15).name(),
        "malformed"
    );
    // Uncompressed tokens are accepted, but not with trailing bytes either.
    let mut raw = sign_cose(&claims, &key);
    assert_eq!(
        verify(
            &format!("PR1:{}", base45_encode(&raw)),
            &trust,
            &NoRevocations,
            15
        )
        .name(),
        "valid"
    );
    raw.push(0);
    assert_eq!(
        verify(
            &format!("PR1:{}", base45_encode(&raw)),
            &trust,
            &NoRevocations,
            15
        )
        .name(),
        "malformed"
    );
}
