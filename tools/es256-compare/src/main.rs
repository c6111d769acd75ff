//! ES256 verification: the p256 crate against aws-lc-rs, side by side, CPU time of this thread.
use p256::ecdsa::signature::{Signer, Verifier};
use std::time::Duration;

fn cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    Duration::from_nanos(s.split_whitespace().next().unwrap().parse().unwrap())
}

fn main() {
    let n: usize = std::env::args().nth(1).map_or(3000, |a| a.parse().unwrap());
    let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let vk = *key.verifying_key();
    let msgs: Vec<Vec<u8>> = (0..n).map(|i| format!("Signature1 message {i} ............................................................................................................................").into_bytes()).collect();
    let sigs: Vec<p256::ecdsa::Signature> = msgs.iter().map(|m| key.sign(m)).collect();
    #[cfg(feature = "aws")]
    let aws_key = {
        let point = vk.to_encoded_point(false);
        aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED, point.as_bytes().to_vec())
    };
    for round in 1..=3 {
        let t = cpu();
        for (m, s) in msgs.iter().zip(&sigs) { assert!(vk.verify(m, s).is_ok()); }
        let p = cpu() - t;
        print!("round {round}: p256 {:.1} µs/verify ({:.0}/s)", p.as_secs_f64() * 1e6 / n as f64, n as f64 / p.as_secs_f64());
        #[cfg(feature = "aws")]
        {
            let t = cpu();
            for (m, s) in msgs.iter().zip(&sigs) { assert!(aws_key.verify(m, &s.to_bytes()).is_ok()); }
            let a = cpu() - t;
            print!(", aws-lc-rs {:.1} µs/verify ({:.0}/s): {:.2}×", a.as_secs_f64() * 1e6 / n as f64, n as f64 / a.as_secs_f64(), p.as_secs_f64() / a.as_secs_f64());
        }
        println!();
    }
}
