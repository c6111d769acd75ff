//! `propusk sign`: signs one pass token with the data directory's signing key,
//! outside the service. For interoperability tests, demonstrations and
//! emergencies when the service is down; the service issues passes itself.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use propusk_token::rand_core::{OsRng, RngCore};
use propusk_token::{seal, PassClaims, PassId};

use crate::keyring::Keyring;

#[derive(Args, Debug)]
pub struct SignArgs {
    #[arg(long)]
    purpose: String,
    #[arg(long)]
    regime: String,
    /// Holder hint: initials and the document's last four characters, e.g. "И.И. 4567".
    #[arg(long)]
    holder: String,
    #[arg(long, default_value = "RU-MOW")]
    issuer: String,
    #[arg(long, value_name = "RFC3339")]
    valid_from: jiff::Timestamp,
    #[arg(long, value_name = "RFC3339")]
    valid_until: jiff::Timestamp,
    #[arg(long)]
    area: Option<String>,
    #[arg(long)]
    vehicle: Option<String>,
    /// The pass id (UUID); random when not given.
    #[arg(long)]
    pass_id: Option<String>,
    /// Also write the QR code as a PNG image.
    #[arg(long, value_name = "FILE")]
    qr_png: Option<PathBuf>,
}

pub fn run(data_dir: &std::path::Path, args: SignArgs) -> Result<()> {
    if args.valid_until <= args.valid_from {
        bail!(
            "--valid-until ({}) must be after --valid-from ({})",
            args.valid_until,
            args.valid_from
        );
    }
    let key = Keyring::open(data_dir)?.signing_key()?;
    let pass_id = match &args.pass_id {
        Some(id) => id.parse::<PassId>().map_err(anyhow::Error::msg)?,
        None => {
            let mut id = [0u8; 16];
            OsRng.fill_bytes(&mut id);
            // Mark it as a random (version 4, RFC 9562) UUID.
            id[6] = (id[6] & 0x0F) | 0x40;
            id[8] = (id[8] & 0x3F) | 0x80;
            PassId(id)
        }
    };
    let claims = PassClaims {
        iss: args.issuer,
        iat: jiff::Timestamp::now().as_second(),
        nbf: args.valid_from.as_second(),
        exp: args.valid_until.as_second(),
        pass_id,
        purpose: args.purpose,
        regime: args.regime,
        holder: args.holder,
        area: args.area,
        vehicle: args.vehicle,
    };
    let token = seal(&claims, &key, true);
    if let Some(path) = &args.qr_png {
        std::fs::write(path, propusk_server::qr::render_png(&token, 8)?)?;
    }
    println!("{token}");
    Ok(())
}
