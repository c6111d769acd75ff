//! `propusk keys`, `sign` and `verify` as a user runs them: the real binary,
//! real files, real QR images.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use image::{GrayImage, Luma};

fn propusk(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_propusk"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run propusk")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("propusk-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A data dir with a signing key, its JWKS, and one signed token (10:00–13:00 UTC on 2026-01-01).
fn setup(name: &str, alg: &str) -> (PathBuf, String) {
    let dir = temp_dir(name);
    let out = propusk(
        &[
            "keys",
            "generate",
            "--alg",
            alg,
            "--data-dir",
            "d",
            "--jwks",
            "jwks.json",
        ],
        &dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = propusk(
        &[
            "sign",
            "--data-dir",
            "d",
            "--purpose",
            "shopping",
            "--regime",
            "moscow-2020",
            "--holder",
            "И.И. 4567",
            "--valid-from",
            "2026-01-01T10:00:00Z",
            "--valid-until",
            "2026-01-01T13:00:00Z",
            "--qr-png",
            "qr.png",
        ],
        &dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        dir,
        String::from_utf8(out.stdout).unwrap().trim().to_string(),
    )
}

fn verdicts(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn verdicts_and_exit_codes() {
    let (dir, token) = setup("verdicts", "ed25519");
    let at = |t: &str| {
        propusk(
            &["verify", "--keys", "jwks.json", "--json", "--at", t, &token],
            &dir,
        )
    };
    let valid = at("2026-01-01T11:00:00Z");
    assert_eq!(valid.status.code(), Some(0));
    let v = &verdicts(&valid.stdout)[0];
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["claims"]["purpose"], "shopping");
    assert_eq!(v["claims"]["holder"], "И.И. 4567");
    let expired = at("2026-01-01T13:00:00Z");
    assert_eq!(expired.status.code(), Some(1));
    assert_eq!(verdicts(&expired.stdout)[0]["verdict"], "expired");
    assert_eq!(
        verdicts(&at("2026-01-01T09:59:59Z").stdout)[0]["verdict"],
        "not_yet_valid"
    );

    // Revoked through a revocation list file of the published form.
    let pass_id = v["claims"]["pass_id"].as_str().unwrap();
    let list = serde_json::json!({"sequence": 1, "revoked": [{"seq": 1, "pass_id": pass_id}]});
    std::fs::write(dir.join("rev.json"), list.to_string()).unwrap();
    let out = propusk(
        &[
            "verify",
            "--keys",
            "jwks.json",
            "--revocations",
            "rev.json",
            "--json",
            "--at",
            "2026-01-01T11:00:00Z",
            &token,
        ],
        &dir,
    );
    assert_eq!(verdicts(&out.stdout)[0]["verdict"], "revoked");

    // Usage errors exit 2 with a message that says what is wrong.
    let out = propusk(&["verify", "--keys", "missing.json", &token], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.json"));
    let out = propusk(&["verify", "--keys", "jwks.json"], &dir);
    assert_eq!(out.status.code(), Some(2));
    let out = propusk(
        &["verify", "--keys", "jwks.json", "--at", "yesterday", &token],
        &dir,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn key_rotation_keeps_old_passes_valid_until_retired() {
    let (dir, old_token) = setup("rotation", "es256");
    let kid = |out: &Output| {
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(3)
            .unwrap()
            .to_string()
    };
    let first = propusk(&["keys", "list", "--data-dir", "d"], &dir);
    let first_kid = String::from_utf8_lossy(&first.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let rotated = propusk(&["keys", "rotate", "--data-dir", "d"], &dir);
    assert!(rotated.status.success());
    let new_kid = kid(&rotated);
    assert_ne!(new_kid, first_kid);
    assert!(propusk(
        &["keys", "export", "--data-dir", "d", "--out", "jwks.json"],
        &dir
    )
    .status
    .success());
    let check = |dir: &Path| {
        let out = propusk(
            &[
                "verify",
                "--keys",
                "jwks.json",
                "--json",
                "--at",
                "2026-01-01T11:00:00Z",
                &old_token,
            ],
            dir,
        );
        verdicts(&out.stdout)[0]["verdict"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        check(&dir),
        "valid",
        "the old key still verifies after rotation"
    );
    let out = propusk(&["keys", "retire", "--data-dir", "d", &new_kid], &dir);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the signing key cannot be retired"
    );
    assert!(
        propusk(&["keys", "retire", "--data-dir", "d", &first_kid], &dir)
            .status
            .success()
    );
    assert!(propusk(
        &["keys", "export", "--data-dir", "d", "--out", "jwks.json"],
        &dir
    )
    .status
    .success());
    assert_eq!(check(&dir), "unknown_key");
}

/// Rotates a grayscale image about its centre (white fill), as a hand-held photo is tilted.
fn rotate(img: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = img.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (sin, cos) = degrees.to_radians().sin_cos();
    GrayImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let (sx, sy) = (cos * dx + sin * dy + cx, -sin * dx + cos * dy + cy);
        if sx < 0.0 || sy < 0.0 || sx >= (w - 1) as f32 || sy >= (h - 1) as f32 {
            return Luma([255]);
        }
        let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        let p = |x, y| f32::from(img.get_pixel(x, y)[0]);
        let top = p(x0, y0) * (1.0 - fx) + p(x0 + 1, y0) * fx;
        let bottom = p(x0, y0 + 1) * (1.0 - fx) + p(x0 + 1, y0 + 1) * fx;
        Luma([(top * (1.0 - fy) + bottom * fy) as u8])
    })
}

#[test]
fn qr_image_verifies_even_as_a_tilted_blurred_jpeg() {
    let (dir, token) = setup("image", "ed25519");
    let out = propusk(
        &[
            "verify",
            "--keys",
            "jwks.json",
            "--json",
            "--at",
            "2026-01-01T11:00:00Z",
            "--image",
            "qr.png",
        ],
        &dir,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(verdicts(&out.stdout)[0]["verdict"], "valid");

    // A phone photo: tilted 7°, blurred, grey paper, saved as JPEG.
    let clean = image::open(dir.join("qr.png")).unwrap().to_luma8();
    let tilted = rotate(&clean, 7.0);
    let blurred = image::imageops::blur(&tilted, 1.5);
    let dim = GrayImage::from_fn(blurred.width(), blurred.height(), |x, y| {
        Luma([40 + blurred.get_pixel(x, y)[0] / 2])
    });
    dim.save_with_format(dir.join("photo.jpg"), image::ImageFormat::Jpeg)
        .unwrap();
    let out = propusk(
        &[
            "verify",
            "--keys",
            "jwks.json",
            "--at",
            "2026-01-01T11:00:00Z",
            "--image",
            "photo.jpg",
        ],
        &dir,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout {} stderr {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("VALID"));
    let _ = token;

    std::fs::write(dir.join("blank.png"), []).unwrap();
    let out = propusk(
        &["verify", "--keys", "jwks.json", "--image", "blank.png"],
        &dir,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn thousands_of_mutated_tokens_get_one_verdict_line_each() {
    let (dir, token) = setup("mutations", "ed25519");
    // Deterministic xorshift so a failure reproduces.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut input = Vec::new();
    let count = 5000;
    for i in 0..count {
        let mut t = token.clone().into_bytes();
        match i % 5 {
            0 => {
                let p = (next() as usize) % t.len();
                t[p] = alphabet[(next() as usize) % alphabet.len()];
            }
            1 => t.truncate((next() as usize) % t.len()),
            2 => {
                let p = (next() as usize) % t.len();
                t.remove(p);
            }
            3 => {
                let p = 4 + (next() as usize) % (t.len() - 4);
                t.insert(p, alphabet[(next() as usize) % alphabet.len()]);
            }
            _ => {
                t = (0..(next() % 300))
                    .map(|_| (next() % 256) as u8)
                    .filter(|&b| b != b'\n')
                    .collect()
            }
        }
        input.extend_from_slice(&t);
        input.push(b'\n');
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_propusk"))
        .args([
            "verify",
            "--keys",
            "jwks.json",
            "--json",
            "--at",
            "2026-01-01T11:00:00Z",
            "-",
        ])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "no panic, no error: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = verdicts(&out.stdout);
    assert_eq!(lines.len(), count);
    let names = [
        "valid",
        "expired",
        "not_yet_valid",
        "revoked",
        "unknown_key",
        "bad_signature",
        "malformed",
    ];
    for v in &lines {
        let name = v["verdict"].as_str().unwrap();
        assert!(names.contains(&name), "{v}");
        if name == "valid" {
            assert_eq!(
                v["claims"]["holder"], "И.И. 4567",
                "a mutation never yields other claims"
            );
        }
    }
}

#[test]
fn jobs_and_batches_change_neither_verdicts_nor_their_order() {
    let (dir, token) = setup("jobs", "ed25519");
    // Valid tokens with a damaged one every third line: most batches of 64 fail and are
    // checked one by one, and every line must still get its own verdict in its place.
    let mut input = String::new();
    for i in 0..3000usize {
        if i % 3 == 0 {
            let mut t = token.clone().into_bytes();
            let p = token.len() - 1 - i % 40;
            t[p] = if t[p] == b'A' { b'B' } else { b'A' };
            input.push_str(std::str::from_utf8(&t).unwrap());
        } else {
            input.push_str(&token);
        }
        input.push('\n');
    }
    let run = |jobs: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_propusk"))
            .args([
                "verify",
                "--keys",
                "jwks.json",
                "--at",
                "2026-01-01T11:00:00Z",
                "--jobs",
                jobs,
                "-",
            ])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = input.clone();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert_eq!(out.status.code(), Some(1), "not every token is valid");
        String::from_utf8(out.stdout).unwrap()
    };
    let one = run("1");
    let lines: Vec<&str> = one.lines().collect();
    assert_eq!(lines.len(), 3000);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line.starts_with("VALID"), i % 3 != 0, "line {i}: {line}");
    }
    assert_eq!(
        run("3"),
        one,
        "--jobs 3 gives the same lines in the same order"
    );
    let refused = Command::new(env!("CARGO_BIN_EXE_propusk"))
        .args(["verify", "--keys", "jwks.json", "--jobs", "0", "-"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "--jobs 0 is refused");
}
