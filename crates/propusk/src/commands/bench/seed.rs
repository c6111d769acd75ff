//! `propusk bench seed`: makes a city's database for the benchmarks — `--residents N`
//! synthetic Muscovites ([`crate::synthetic`]) loaded through the registry import
//! (`propusk_store::RegistryImporter`, the path `propusk import residents` takes), then
//! `--passes M` passes signed with the data directory's key and spread over them, of which
//! `--revocations R` are cancelled by their holders and published in the revocation list.
//! With `--csv FILE` it writes the registry as a CSV file instead, for `propusk import`.
//!
//! Passes are those of a day at the start of a lockdown: work passes (with an employer's
//! INN) until the end of the day, shopping, medical, pets, trash, emergencies, starting from
//! six hours ago to twelve hours ahead; 65 % asked on the web, 25 % by SMS, 10 % by API. Their
//! tokens are sealed as issuance seals them, without zlib (it cannot shrink a token).
//! Cancelled passes are chosen among those still valid three hours from now, so that a
//! revocation benchmark run right after finds them in the list.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use jiff::{SignedDuration, Timestamp};
use propusk_core::domain::holder_hint;
use propusk_core::Lang;
use propusk_store::{PassRecord, RegistryRow, RowOutcome, SeedHolder, SeedPass, Store};
use propusk_token::rand_core::OsRng;
use propusk_token::{seal, Algorithm, PassClaims, PassId, ShortCode, SigningKey};

use super::super::import::progress::Progress;
use super::super::serve::StoreArgs;
use crate::keyring::Keyring;
use crate::scratch_db::redact;
use crate::synthetic::{self, Rng};

#[derive(Args, Debug)]
pub(super) struct SeedArgs {
    /// Synthetic residents to register.
    #[arg(long)]
    residents: u64,
    /// Passes to issue to them (signed, with short codes).
    #[arg(long, default_value_t = 0)]
    passes: u64,
    /// How many of the passes their holders cancel (published as revocations).
    #[arg(long, default_value_t = 0)]
    revocations: u64,
    /// Write the registry to this CSV file instead of loading a database.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// The population's seed: the same seed makes the same residents.
    #[arg(long, default_value_t = 2020)]
    seed: u64,
    /// Residents per import transaction, passes per load transaction ÷ 10.
    #[arg(long, default_value_t = 50_000)]
    batch: u64,
    #[command(flatten)]
    store: StoreArgs,
}

pub(super) async fn seed(args: SeedArgs) -> Result<()> {
    if args.residents == 0 || args.residents > 160_000_000 {
        bail!("--residents must be from 1 to 160000000");
    }
    if args.revocations > args.passes {
        bail!("--revocations cannot exceed --passes");
    }
    if !(100..=200_000).contains(&args.batch) {
        bail!("--batch must be from 100 to 200000");
    }
    if let Some(path) = &args.csv {
        if args.passes > 0 {
            bail!("--csv writes the registry only; load passes into a database without --csv");
        }
        return write_csv(path, args.residents, args.seed);
    }
    let (_, data_dir, url) = args.store.resolve()?;
    let store = Store::open(&url)
        .await
        .with_context(|| format!("cannot open {}", redact(&url)))?;
    println!("propusk bench seed");
    println!(
        "  command:     {}",
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    println!("  database:    {}", redact(&url));
    let started = Instant::now();
    let added = load_residents(&store, args.residents, args.seed, args.batch).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  residents:   {added} new of {} in {secs:.1} s ({:.0}/s, through the registry import)",
        args.residents,
        args.residents as f64 / secs.max(1e-3)
    );
    if args.passes > 0 {
        let key = signing_key(&data_dir)?;
        let started = Instant::now();
        let plan = PassPlan {
            residents: args.residents,
            passes: args.passes,
            revocations: args.revocations,
            seed: args.seed,
            batch: args.batch,
        };
        let (passes, revoked) = load_passes(&store, &plan, key).await?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "  passes:      {passes} in {secs:.1} s ({:.0}/s, signed on {} cores), {revoked} of them cancelled and published",
            passes as f64 / secs.max(1e-3),
            cores()
        );
    }
    store.close().await;
    Ok(())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The registry as CSV (the columns `propusk import residents` reads).
fn write_csv(path: &PathBuf, residents: u64, seed: u64) -> Result<()> {
    let started = Instant::now();
    let mut out = csv::Writer::from_path(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    out.write_record([
        "phone",
        "full_name",
        "document_type",
        "document_number",
        "address",
        "lat",
        "lon",
    ])?;
    for i in 0..residents {
        let r = synthetic::resident(i, seed);
        out.write_record([
            r.phone.as_str(),
            r.full_name.as_str(),
            r.document.kind().as_str(),
            r.document.number(),
            &r.address,
            &r.home.lat().to_string(),
            &r.home.lon().to_string(),
        ])?;
    }
    out.flush()?;
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!(
        "wrote {residents} residents to {} ({:.1} MB) in {:.1} s",
        path.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub(super) async fn load_residents(
    store: &Store,
    residents: u64,
    seed: u64,
    batch: u64,
) -> Result<u64> {
    let mut importer = store.registry_importer().await?;
    let mut progress = Progress::new(residents, Lang::En, "residents");
    let mut added = 0;
    let mut next = 0;
    while next < residents {
        let end = (next + batch).min(residents);
        let rows: Vec<RegistryRow> = (next..end)
            .map(|i| {
                let r = synthetic::resident(i, seed);
                RegistryRow {
                    line: i + 2,
                    phone: r.phone,
                    full_name: r.full_name,
                    document: r.document,
                    address: r.address,
                    home: Some(r.home),
                }
            })
            .collect();
        let outcomes = importer.import(&rows, Timestamp::now()).await?;
        added += outcomes
            .iter()
            .filter(|(_, o)| *o == RowOutcome::Added)
            .count() as u64;
        next = end;
        progress.update(next, next);
    }
    progress.finish();
    Ok(added)
}

/// The data directory's signing key (one is made, as `propusk serve` would, if there is none).
pub(super) fn signing_key(data_dir: &std::path::Path) -> Result<Arc<SigningKey>> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let mut ring = Keyring::open(data_dir)?;
    if ring.entries().is_empty() {
        ring.generate(Algorithm::EdDsa, false)?;
    }
    Ok(Arc::new(ring.signing_key()?))
}

/// A pass before it is signed.
struct Spec {
    holder: usize,
    purpose: &'static str,
    from: i64,
    until: i64,
    issued: i64,
    channel: &'static str,
    employer: Option<String>,
}

/// Purposes with their share of a day's passes (percent) and length in minutes (0: until
/// the end of the day in Moscow).
const PURPOSES: [(&str, u64, i64); 6] = [
    ("work", 40, 0),
    ("shopping", 25, 180),
    ("medical", 10, 0),
    ("pet", 10, 60),
    ("trash", 10, 30),
    ("emergency", 5, 720),
];

fn spec(rng: &mut Rng, holder: usize, now: i64, employers: &[String]) -> Spec {
    let roll = rng.below(100);
    let mut acc = 0;
    let &(purpose, _, minutes) = PURPOSES
        .iter()
        .find(|(_, share, _)| {
            acc += share;
            roll < acc
        })
        .unwrap_or(&PURPOSES[0]);
    let from = (now - 6 * 3600 + rng.below(18 * 3600) as i64) / 60 * 60;
    let until = if minutes == 0 {
        // The end of the day in Moscow (UTC+3).
        ((from + 3 * 3600) / 86_400 + 1) * 86_400 - 3 * 3600
    } else {
        from + minutes * 60
    };
    let issued = from.min(now) - rng.below(3600) as i64;
    let channel = match rng.below(100) {
        0..=64 => "web",
        65..=89 => "sms",
        _ => "api",
    };
    Spec {
        holder,
        purpose,
        from,
        until,
        issued,
        channel,
        employer: (purpose == "work").then(|| rng.pick(employers).clone()),
    }
}

/// Signs the passes of `specs` for `holders`, on every core.
fn sign_all(specs: &[Spec], holders: &[SeedHolder], key: &SigningKey) -> Vec<PassRecord> {
    let chunk = specs.len().div_ceil(cores()).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = specs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|s| sign(s, holders, key))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("a signing thread panicked"))
            .collect()
    })
}

fn sign(s: &Spec, holders: &[SeedHolder], key: &SigningKey) -> PassRecord {
    let holder = &holders[s.holder];
    let id = uuid::Uuid::new_v4();
    let claims = PassClaims {
        iss: "RU-MOW".into(),
        iat: s.issued,
        nbf: s.from,
        exp: s.until,
        pass_id: PassId(*id.as_bytes()),
        purpose: s.purpose.into(),
        regime: "moscow-2020".into(),
        holder: holder_hint(&holder.full_name, &holder.document),
        area: None,
        vehicle: None,
    };
    let at = |t: i64| Timestamp::from_second(t).expect("a pass time is in range");
    PassRecord {
        id: id.to_string(),
        resident_id: holder.id.clone(),
        regime_id: claims.regime.clone(),
        purpose: claims.purpose.clone(),
        short_code: ShortCode::generate(&mut OsRng).compact(),
        token: seal(&claims, key, false),
        valid_from: at(s.from),
        valid_until: at(s.until),
        issued_at: at(s.issued),
        channel: s.channel.into(),
        fields: s
            .employer
            .iter()
            .map(|inn| ("employer_inn".to_string(), inn.clone()))
            .collect(),
        cancelled_at: None,
    }
}

/// How many passes to make for how many residents, and how many to cancel.
pub(super) struct PassPlan {
    pub residents: u64,
    pub passes: u64,
    pub revocations: u64,
    pub seed: u64,
    pub batch: u64,
}

/// The share of the passes [`spec`] makes that are still valid three hours on (the ones a
/// revocation benchmark can cancel and find in the list).
pub(super) fn live_share() -> f64 {
    let now = Timestamp::now().as_second();
    let mut rng = Rng::new(1);
    let employers = vec!["7707083893".to_string()];
    (0..10_000)
        .filter(|_| spec(&mut rng, 0, now, &employers).until > now + 3 * 3600)
        .count() as f64
        / 10_000.0
}

pub(super) async fn load_passes(
    store: &Store,
    args: &PassPlan,
    key: Arc<SigningKey>,
) -> Result<(u64, u64)> {
    let now = Timestamp::now().as_second();
    let live_from = now + 3 * 3600;
    let mut rng = Rng::new(args.seed ^ 0x7061_7373);
    let employers: Vec<String> = (0..20_000)
        .map(|_| synthetic::employer_inn(&mut rng).as_str().to_string())
        .collect();
    // How many passes stay valid three hours on, to cancel about R of them.
    let revoke_p = (args.revocations as f64 / (args.passes as f64 * live_share())).min(1.0);
    let per_holder = args.passes as f64 / args.residents as f64;
    let mut progress = Progress::new(args.passes, Lang::En, "passes");
    let (mut made, mut revoked) = (0u64, 0u64);
    let mut after = String::new();
    let page = (args.batch / 5).max(100) as i64;
    while made < args.passes {
        let holders = store.seed_holders(&after, page).await?;
        let Some(last) = holders.last() else {
            if after.is_empty() {
                bail!("the database has no residents with a profile to give passes to");
            }
            // Round the residents again for the passes chance left over.
            after.clear();
            continue;
        };
        after = last.id.clone();
        let mut specs = Vec::new();
        for h in 0..holders.len() {
            let extra = u64::from(rng.unit() < per_holder.fract());
            for _ in 0..(per_holder.trunc() as u64 + extra) {
                if made + (specs.len() as u64) < args.passes {
                    specs.push(spec(&mut rng, h, now, &employers));
                }
            }
        }
        let records = tokio::task::block_in_place(|| sign_all(&specs, &holders, &key));
        let mut passes: Vec<SeedPass> = records
            .into_iter()
            .map(|record| {
                let cancel = revoked < args.revocations
                    && record.valid_until.as_second() > live_from
                    && rng.unit() < revoke_p;
                revoked += u64::from(cancel);
                let cancelled = record.issued_at.max(
                    Timestamp::from_second(now).unwrap_or(record.issued_at)
                        - SignedDuration::from_mins(rng.below(60) as i64),
                );
                SeedPass {
                    revoked_at: cancel.then_some(cancelled),
                    record,
                }
            })
            .collect();
        store.seed_passes(&mut passes).await?;
        made += passes.len() as u64;
        progress.update(made, made);
    }
    progress.finish();
    Ok((made, revoked))
}
