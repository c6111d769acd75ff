//! `verify_many` gives every token the verdict `verify` gives it, whatever the mix: bad
//! signatures anywhere in a batch, other keys, ES256, malformed text, revocations.

use proptest::prelude::*;
use propusk_token::*;

fn claims(n: u8) -> PassClaims {
    PassClaims {
        iss: "RU-MOW".into(),
        iat: 100,
        nbf: 100,
        exp: 200 + i64::from(n),
        pass_id: PassId([n; 16]),
        purpose: "shopping".into(),
        regime: "moscow-2020".into(),
        holder: "И.И. 4567".into(),
        area: None,
        vehicle: None,
    }
}

/// A token of one of several kinds: valid Ed25519, valid ES256, a flipped signature byte, an
/// unknown key, garbage text.
fn token(kind: u8, n: u8, keys: &[SigningKey]) -> String {
    match kind % 6 {
        0 | 1 => seal(&claims(n), &keys[0], n % 2 == 0),
        2 => seal(&claims(n), &keys[1], false),
        3 => {
            let text = seal(&claims(n), &keys[0], false);
            let mut cose = base45_decode(&text[4..]).unwrap();
            let last = cose.len() - 1 - usize::from(n % 64);
            cose[last] ^= 1;
            format!("{PREFIX}{}", base45_encode(&cose))
        }
        4 => seal(&claims(n), &keys[2], false),
        _ => format!("PR1:{n}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn same_verdicts_as_one_by_one(kinds in proptest::collection::vec(any::<u8>(), 0..200)) {
        let keys: Vec<SigningKey> = [Algorithm::EdDsa, Algorithm::Es256, Algorithm::EdDsa]
            .into_iter()
            .map(|alg| SigningKey::generate(alg, &mut rand_core::OsRng))
            .collect();
        let trust = TrustList::new(keys[..2].iter().map(SigningKey::verifying_key));
        let texts: Vec<String> = kinds
            .iter()
            .enumerate()
            .map(|(n, kind)| token(*kind, n as u8, &keys))
            .collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let revoked = |id: &PassId| id.0[0] % 7 == 0;
        let many = verify_many(&texts, &trust, &revoked, 150);
        let one_by_one: Vec<Verdict> =
            texts.iter().map(|t| verify(t, &trust, &revoked, 150)).collect();
        prop_assert_eq!(many, one_by_one);
    }
}

#[test]
fn a_bad_signature_in_a_full_batch_is_found_and_the_others_stay_valid() {
    let key = SigningKey::generate(Algorithm::EdDsa, &mut rand_core::OsRng);
    let trust = TrustList::new([key.verifying_key()]);
    let mut texts: Vec<String> = (0..BATCH as u8)
        .map(|n| seal(&claims(n), &key, false))
        .collect();
    texts[17] = token(3, 17, std::slice::from_ref(&key));
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let verdicts = verify_many(&texts, &trust, &NoRevocations, 150);
    assert_eq!(verdicts[17].name(), "bad_signature");
    assert!(verdicts
        .iter()
        .enumerate()
        .all(|(k, v)| k == 17 || v.is_valid()));
}
