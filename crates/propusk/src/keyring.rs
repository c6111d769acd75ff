//! The signing keys in the data directory.
//!
//! Layout: `<data-dir>/keys/<kid>.pem` (PKCS#8, mode 0600) and
//! `<data-dir>/keys/keyring.json`, which says which key signs, which only verify
//! (the previous ones, still trusted until retired, or a next one published
//! ahead of a rotation) and which are retired (no longer published).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use propusk_token::rand_core::OsRng;
use propusk_token::{Algorithm, Jwks, KeyId, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// Signs new passes. Exactly one key at a time.
    Signing,
    /// Published and trusted, signs nothing new.
    Verifying,
    /// Neither published nor trusted.
    Retired,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyEntry {
    pub kid: String,
    pub alg: String,
    pub status: KeyStatus,
    pub created_at: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    keys: Vec<KeyEntry>,
}

/// The keys of one data directory.
pub struct Keyring {
    dir: PathBuf,
    manifest: Manifest,
}

impl Keyring {
    /// Opens the keyring under `data_dir` (an empty one if there is none yet).
    pub fn open(data_dir: &Path) -> Result<Self> {
        let dir = data_dir.join("keys");
        let path = dir.join("keyring.json");
        let manifest = match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid keyring", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Manifest::default(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(Self { dir, manifest })
    }

    pub fn entries(&self) -> &[KeyEntry] {
        &self.manifest.keys
    }

    /// Generates a key and stores it. It becomes the signing key when there is
    /// none, or when `make_signing` asks (a rotation); otherwise it is published
    /// for verification ahead of a later rotation.
    pub fn generate(&mut self, alg: Algorithm, make_signing: bool) -> Result<KeyEntry> {
        let key = SigningKey::generate(alg, &mut OsRng);
        fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        write_secret(
            &self.pem_path(&key.kid().to_string()),
            key.to_pkcs8_pem().as_bytes(),
        )?;
        let signing = make_signing
            || !self
                .manifest
                .keys
                .iter()
                .any(|k| k.status == KeyStatus::Signing);
        if signing {
            self.demote_signing();
        }
        let entry = KeyEntry {
            kid: key.kid().to_string(),
            alg: alg.to_string(),
            status: if signing {
                KeyStatus::Signing
            } else {
                KeyStatus::Verifying
            },
            created_at: jiff::Timestamp::now().to_string(),
        };
        self.manifest.keys.push(entry.clone());
        self.save()?;
        Ok(entry)
    }

    /// Makes an existing verifying key the signing key.
    pub fn promote(&mut self, kid: &str) -> Result<()> {
        let status = self.find(kid)?.status;
        match status {
            KeyStatus::Signing => return Ok(()),
            KeyStatus::Retired => bail!("key {kid} is retired; generate a new key instead"),
            KeyStatus::Verifying => {}
        }
        self.signing_key_for(kid)?; // the private key file must be readable
        self.demote_signing();
        self.find_mut(kid)?.status = KeyStatus::Signing;
        self.save()
    }

    /// Stops publishing and trusting a key. The signing key cannot be retired.
    pub fn retire(&mut self, kid: &str) -> Result<()> {
        let entry = self.find_mut(kid)?;
        if entry.status == KeyStatus::Signing {
            bail!("key {kid} is the signing key; rotate to another key before retiring it");
        }
        entry.status = KeyStatus::Retired;
        self.save()
    }

    /// The key that signs new passes.
    pub fn signing_key(&self) -> Result<SigningKey> {
        let entry = self
            .manifest
            .keys
            .iter()
            .find(|k| k.status == KeyStatus::Signing)
            .ok_or_else(|| {
                anyhow!(
                    "no signing key in {}; run `propusk keys generate`",
                    self.dir.display()
                )
            })?;
        self.signing_key_for(&entry.kid)
    }

    /// The public keys to publish and trust: the signing key and the verifying ones.
    pub fn published(&self) -> Result<Vec<VerifyingKey>> {
        self.manifest
            .keys
            .iter()
            .filter(|k| k.status != KeyStatus::Retired)
            .map(|k| self.signing_key_for(&k.kid).map(|s| s.verifying_key()))
            .collect()
    }

    pub fn jwks(&self) -> Result<Jwks> {
        Ok(Jwks::from_keys(self.published()?.iter()))
    }

    fn signing_key_for(&self, kid: &str) -> Result<SigningKey> {
        let path = self.pem_path(kid);
        let pem = fs::read_to_string(&path)
            .with_context(|| format!("cannot read key file {}", path.display()))?;
        let key = SigningKey::from_pkcs8_pem(&pem)
            .with_context(|| format!("key file {}", path.display()))?;
        if key.kid().to_string() != kid {
            bail!(
                "key file {} holds key {}, not {kid}",
                path.display(),
                key.kid()
            );
        }
        Ok(key)
    }

    /// Copies every key (private halves included) and which one signs into `out`, a new
    /// directory readable by its owner only: what a backup of the data directory's keys
    /// needs, kept apart from the database backup. Returns how many keys.
    pub fn export_private(&self, out: &Path) -> Result<usize> {
        if out.exists() {
            bail!(
                "{} exists already; export into a new directory",
                out.display()
            );
        }
        {
            use std::os::unix::fs::DirBuilderExt;
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(out)
                .with_context(|| format!("cannot create {}", out.display()))?;
        }
        for entry in &self.manifest.keys {
            let key = self.signing_key_for(&entry.kid)?;
            write_secret(
                &out.join(format!("{}.pem", entry.kid)),
                key.to_pkcs8_pem().as_bytes(),
            )?;
        }
        let json = serde_json::to_string_pretty(&self.manifest)?;
        write_secret(&out.join("keyring.json"), json.as_bytes())?;
        Ok(self.manifest.keys.len())
    }

    /// Installs keys that [`Keyring::export_private`] wrote into the keyring of a data
    /// directory that has none; every key file is checked against its id first.
    pub fn import(data_dir: &Path, from: &Path) -> Result<Keyring> {
        let mut ring = Keyring::open(data_dir)?;
        if !ring.manifest.keys.is_empty() {
            bail!(
                "{} has keys already; restore into an empty data directory",
                ring.dir.display()
            );
        }
        let exported = Keyring {
            dir: from.to_path_buf(),
            manifest: Keyring::open_dir(from)?,
        };
        if exported.manifest.keys.is_empty() {
            bail!(
                "{} holds no exported keys (keyring.json is missing or empty)",
                from.display()
            );
        }
        fs::create_dir_all(&ring.dir)
            .with_context(|| format!("cannot create {}", ring.dir.display()))?;
        for entry in &exported.manifest.keys {
            let key = exported.signing_key_for(&entry.kid)?;
            write_secret(&ring.pem_path(&entry.kid), key.to_pkcs8_pem().as_bytes())?;
        }
        ring.manifest = exported.manifest;
        ring.save()?;
        Ok(ring)
    }

    /// The manifest of a keys directory.
    fn open_dir(dir: &Path) -> Result<Manifest> {
        let path = dir.join("keyring.json");
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid keyring", path.display()))
    }

    fn demote_signing(&mut self) {
        for k in &mut self.manifest.keys {
            if k.status == KeyStatus::Signing {
                k.status = KeyStatus::Verifying;
            }
        }
    }

    fn find(&self, kid: &str) -> Result<&KeyEntry> {
        self.manifest
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| self.unknown(kid))
    }

    fn find_mut(&mut self, kid: &str) -> Result<&mut KeyEntry> {
        let err = self.unknown(kid);
        self.manifest
            .keys
            .iter_mut()
            .find(|k| k.kid == kid)
            .ok_or(err)
    }

    fn unknown(&self, kid: &str) -> anyhow::Error {
        let valid = kid.parse::<KeyId>().is_ok();
        anyhow!(
            "no key {kid} in {}{}; `propusk keys list` shows the keys",
            self.dir.display(),
            if valid {
                ""
            } else {
                " (a key id is 11 base64url characters)"
            }
        )
    }

    fn pem_path(&self, kid: &str) -> PathBuf {
        self.dir.join(format!("{kid}.pem"))
    }

    fn save(&self) -> Result<()> {
        let json = serde_json::to_string_pretty(&self.manifest)?;
        write_atomically(&self.dir.join("keyring.json"), json.as_bytes(), 0o644)
    }
}

/// Writes a file readable by its owner only.
fn write_secret(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(path, bytes, 0o600)
}

/// Write to a temporary file, fsync, rename: a crash leaves the old or the new file, never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    // The rename is durable only once the directory entry is.
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generate_rotate_retire() {
        let dir = std::env::temp_dir().join(format!("propusk-keyring-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut ring = Keyring::open(&dir).unwrap();
        let first = ring.generate(Algorithm::EdDsa, false).unwrap();
        assert_eq!(first.status, KeyStatus::Signing);
        let mode = fs::metadata(dir.join("keys").join(format!("{}.pem", first.kid)))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        let ahead = ring.generate(Algorithm::Es256, false).unwrap();
        assert_eq!(ahead.status, KeyStatus::Verifying);
        assert_eq!(ring.signing_key().unwrap().kid().to_string(), first.kid);

        let rotated = ring.generate(Algorithm::EdDsa, true).unwrap();
        let ring = Keyring::open(&dir).unwrap();
        assert_eq!(ring.signing_key().unwrap().kid().to_string(), rotated.kid);
        assert_eq!(ring.published().unwrap().len(), 3);

        let mut ring = ring;
        assert!(
            ring.retire(&rotated.kid).is_err(),
            "the signing key cannot be retired"
        );
        ring.retire(&first.kid).unwrap();
        assert_eq!(ring.jwks().unwrap().keys.len(), 2);
        ring.promote(&ahead.kid).unwrap();
        assert_eq!(ring.signing_key().unwrap().algorithm(), Algorithm::Es256);
        assert!(ring.promote("nope").is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
