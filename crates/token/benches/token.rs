//! Criterion benchmarks of the token's hot paths: sign, encode, decode, verify,
//! and the raw signature check that verification is measured against.
//!
//! Run: `cargo bench -p propusk-token --bench token`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use propusk_token::*;

fn claims() -> PassClaims {
    PassClaims {
        iss: "RU-MOW".into(),
        iat: 1_764_374_400,
        nbf: 1_764_374_400,
        exp: 1_764_385_200,
        pass_id: PassId(*b"0123456789abcdef"),
        purpose: "shopping".into(),
        regime: "moscow-2020".into(),
        holder: "И.И. 4567".into(),
        area: None,
        vehicle: None,
    }
}

fn bench(c: &mut Criterion) {
    for alg in [Algorithm::EdDsa, Algorithm::Es256] {
        let key = SigningKey::generate(alg, &mut rand_core::OsRng);
        let public = key.verifying_key();
        let trust = TrustList::new([public.clone()]);
        let claims = claims();
        let cose = sign_cose(&claims, &key);
        let text = seal(&claims, &key, true);
        let now = claims.nbf + 60;

        let mut g = c.benchmark_group(alg.to_string());
        g.throughput(Throughput::Elements(1));
        g.bench_function("sign (claims → QR text)", |b| {
            b.iter(|| seal(&claims, &key, true))
        });
        g.bench_function("encode claims (CBOR)", |b| b.iter(|| claims.to_cbor()));
        g.bench_function("decode claims (CBOR)", |b| {
            let cbor = claims.to_cbor();
            b.iter(|| PassClaims::from_cbor(&cbor))
        });
        g.bench_function("encode envelope (zlib + base45)", |b| {
            b.iter(|| base45_encode(&miniz_compress(&cose)))
        });
        g.bench_function("verify (QR text → verdict)", |b| {
            b.iter(|| verify(&text, &trust, &NoRevocations, now))
        });
        // The floor verification cannot go below: one signature check over the
        // same Sig_structure bytes.
        let tbs = coset_tbs(&cose);
        let sig = &cose[cose.len() - 64..];
        g.bench_function("raw signature check", |b| {
            b.iter(|| public.verify(&tbs, sig))
        });
        g.finish();
    }
}

fn miniz_compress(bytes: &[u8]) -> Vec<u8> {
    // The same call the crate makes, so the bench measures only this layer.
    miniz_oxide::deflate::compress_to_vec_zlib(bytes, 9)
}

/// Rebuilds the Sig_structure the signature covers, from the COSE bytes.
fn coset_tbs(cose: &[u8]) -> Vec<u8> {
    use ciborium::value::Value;
    let Value::Tag(18, inner) = ciborium::de::from_reader::<Value, _>(cose).unwrap() else {
        panic!("not COSE_Sign1")
    };
    let Value::Array(parts) = *inner else {
        panic!("not an array")
    };
    let sig_structure = Value::Array(vec![
        Value::Text("Signature1".into()),
        parts[0].clone(),
        Value::Bytes(vec![]),
        parts[2].clone(),
    ]);
    let mut out = Vec::new();
    ciborium::ser::into_writer(&sig_structure, &mut out).unwrap();
    out
}

criterion_group!(benches, bench);
criterion_main!(benches);
