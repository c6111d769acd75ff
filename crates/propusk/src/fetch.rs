//! Reading a document that may be a local file or an `http://` URL (a verifier's
//! trust list and revocation list are published by the server).

use anyhow::{bail, Context, Result};

pub fn read_file_or_url(location: &str) -> Result<String> {
    if location.starts_with("https://") {
        bail!("{location}: this build fetches plain http:// only; download the file and pass its path");
    }
    if location.starts_with("http://") {
        let mut response = ureq::get(location)
            .call()
            .with_context(|| format!("cannot fetch {location}"))?;
        return response
            .body_mut()
            .read_to_string()
            .with_context(|| format!("cannot read the answer from {location}"));
    }
    std::fs::read_to_string(location).with_context(|| format!("cannot read {location}"))
}
