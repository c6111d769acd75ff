//! `propusk import residents FILE.csv`: loads the city's registry of residents, so that
//! people can ask for a pass on day one without filling in a profile first.
//!
//! The file is CSV in UTF-8 with a header line naming the columns `phone, full_name,
//! document_type, document_number, address` and optionally `lat, lon` (the home), in any
//! order. It is read as a stream, in bounded memory whatever its size: a reader thread
//! parses and checks lines ([`rows`]) into batches, and the store imports each batch in one
//! transaction (PostgreSQL: `COPY` into a staging table, then an upsert; SQLite: one large
//! transaction; `propusk_store::registry`) while the next batch is read.
//!
//! - A file that cannot be a registry — a spreadsheet, a PDF, UTF-16, Windows-1251, no
//!   header — is refused before anything is written ([`sniff`], [`rows::Header`]).
//! - Each bad line goes to the rejects file with its line number, a code and the reason
//!   ([`rejects`]), and the import goes on. A phone already registered with another
//!   document is a reject, never overwritten; a resident's own profile always wins.
//! - Importing the same file again changes nothing.
//! - Exit code 0 when every line was imported (or already was), 1 when some were rejected,
//!   2 when the import could not run or stopped (batches before the failure stay imported;
//!   running it again is safe).

mod lines;
pub(crate) mod progress;
mod rejects;
mod rows;
mod sniff;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use clap::{Args, Subcommand};
use propusk_core::{Lang, Localized};
use propusk_store::{RegistryRow, RowOutcome, Store};
use tokio::sync::mpsc;

use self::lines::{Line, LineReader, MAX_LINE};
use self::progress::Progress;
use self::rejects::{Reject, Rejects};
use self::rows::{parse_row, Header};
use self::sniff::{sniff, FileProblem, SNIFF_BYTES};
use super::serve::StoreArgs;
use crate::scratch_db::redact;

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(subcommand)]
    command: ImportCommand,
}

#[derive(Subcommand, Debug)]
enum ImportCommand {
    /// The city's registry of residents, from CSV (UTF-8): columns phone, full_name,
    /// document_type, document_number, address and optionally lat, lon.
    Residents(ResidentsArgs),
}

#[derive(Args, Debug)]
pub struct ResidentsArgs {
    /// The registry file.
    file: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
    /// Where the rejected lines go [default: FILE.rejects.csv].
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Lines per transaction (100–200,000). Memory grows with it: at 20,000 the import
    /// stays near 100 MB.
    #[arg(long, default_value_t = 20_000)]
    batch: usize,
    /// The language of messages and of the rejects file: ru or en.
    #[arg(long, env = "PROPUSK_LANG", default_value = "ru")]
    lang: String,
}

/// Runs the command; returns the exit code (0: all imported, 1: some rejected).
pub async fn run(args: ImportArgs) -> Result<u8> {
    let ImportCommand::Residents(args) = args.command;
    let lang = Lang::parse(&args.lang)
        .ok_or_else(|| anyhow!("--lang must be ru or en, not '{}'", args.lang))?;
    if !(100..=200_000).contains(&args.batch) {
        return Err(anyhow!("--batch must be from 100 to 200000"));
    }
    import(&args, lang).await
}

fn refuse(lang: Lang, message: Localized) -> anyhow::Error {
    anyhow!("{}", lang.pick(&message))
}

/// A batch of lines, parsed, and how far into the file it ends.
struct Batch {
    rows: Vec<(RegistryRow, String)>,
    rejects: Vec<Reject>,
    first_line: u64,
    last_line: u64,
    bytes: u64,
}

async fn import(args: &ResidentsArgs, lang: Lang) -> Result<u8> {
    let name = args.file.display().to_string();
    let mut file =
        File::open(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut file)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read {name}"))?;
    let skip =
        sniff(&head, (head.len() as u64) == size).map_err(|p| refuse(lang, p.message(&name)))?;
    let input = BufReader::with_capacity(
        1 << 20,
        std::io::Cursor::new(head.split_off(skip)).chain(file),
    );
    let mut reader = LineReader::new(input);
    reader.bytes = skip as u64;
    let mut buf = Vec::with_capacity(MAX_LINE);
    let header = match reader.next_line(&mut buf)? {
        None => return Err(refuse(lang, FileProblem::Empty.message(&name))),
        Some(_) => {
            let text = std::str::from_utf8(&buf)
                .map_err(|_| refuse(lang, FileProblem::NotUtf8.message(&name)))?;
            Header::parse(text).map_err(|p| refuse(lang, p.message()))?
        }
    };

    let (_, _, url) = args.store.resolve()?;
    let store = Store::open(&url)
        .await
        .with_context(|| format!("cannot open {}", redact(&url)))?;
    let mut importer = store.registry_importer().await?;
    let rejects_path = args
        .rejects
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{name}.rejects.csv")));
    let mut rejects = Rejects::create(&rejects_path)?;
    eprintln!(
        "{} {name} → {}",
        lang.tr(
            "Импорт реестра жителей:",
            "Importing the residents registry:"
        ),
        redact(&url)
    );

    // Lines are read and checked on a thread of their own, a batch ahead at most.
    let (send, mut receive) = mpsc::channel::<std::io::Result<Batch>>(1);
    let batch_size = args.batch;
    let reading = std::thread::spawn(move || read_batches(reader, header, batch_size, lang, send));

    let started = Instant::now();
    let mut progress = Progress::new(size, lang, lang.tr("импорт", "import"));
    let mut tally = Tally::default();
    let mut failure = None;
    while let Some(batch) = receive.recv().await {
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                failure = Some(anyhow!(e).context(format!("cannot read {name}")));
                break;
            }
        };
        let (first, last) = (batch.first_line, batch.last_line);
        if let Err(e) = apply(&mut importer, batch, &mut rejects, &mut tally, lang).await {
            let stopped = Localized::new(
                format!("Импорт остановлен на строках {first}–{last}: строки до {first} импортированы, эти — нет; повторный импорт того же файла безопасен."),
                format!("The import stopped at lines {first}–{last}: the lines before {first} are imported, these are not; importing the same file again is safe."),
            );
            failure = Some(e.context(lang.pick(&stopped).to_string()));
            break;
        }
        progress.update(tally.bytes, tally.lines());
    }
    // Dropping the receiver stops the reader after a failure.
    drop(receive);
    let read = reading
        .join()
        .map_err(|_| anyhow!("the reading thread failed"));
    progress.finish();
    let rejected = rejects.finish()?;
    store.close().await;
    if let Some(e) = failure {
        return Err(e);
    }
    read?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        lang.pick(&tally.summary(&rejects_path.display().to_string(), rejected, secs))
    );
    Ok(if rejected > 0 { 1 } else { 0 })
}

/// What the import did, by line.
#[derive(Default)]
struct Tally {
    added: u64,
    completed: u64,
    unchanged: u64,
    rejected: u64,
    bytes: u64,
}

impl Tally {
    fn lines(&self) -> u64 {
        self.added + self.completed + self.unchanged + self.rejected
    }

    fn summary(&self, rejects: &str, rejected: u64, secs: f64) -> Localized {
        let rate = self.lines() as f64 / secs.max(1e-3);
        let (lines, added, completed, unchanged) =
            (self.lines(), self.added, self.completed, self.unchanged);
        Localized::new(
            format!("Строк реестра: {lines}. Новых жителей: {added}, дополнено профилей: {completed}, без изменений: {unchanged}, отклонено: {rejected} (список: {rejects}). За {secs:.1} с, {rate:.0} строк/с."),
            format!("Registry lines: {lines}. New residents: {added}, profiles completed: {completed}, unchanged: {unchanged}, rejected: {rejected} (listed in {rejects}). In {secs:.1} s, {rate:.0} lines/s."),
        )
    }
}

/// Imports one batch and writes its rejects.
async fn apply(
    importer: &mut propusk_store::RegistryImporter,
    batch: Batch,
    rejects: &mut Rejects,
    tally: &mut Tally,
    lang: Lang,
) -> Result<()> {
    let (rows, records): (Vec<RegistryRow>, Vec<String>) = batch.rows.into_iter().unzip();
    let outcomes = importer.import(&rows, jiff::Timestamp::now()).await?;
    let mut refused = batch.rejects;
    for ((line, outcome), record) in outcomes.into_iter().zip(records) {
        let problem = match outcome {
            RowOutcome::Added => {
                tally.added += 1;
                continue;
            }
            RowOutcome::Completed => {
                tally.completed += 1;
                continue;
            }
            RowOutcome::Unchanged | RowOutcome::Repeated {
                same_document: true,
                ..
            } => {
                tally.unchanged += 1;
                continue;
            }
            RowOutcome::OtherDocument => (
                "phone_registered_with_other_document",
                Localized::new(
                    "этот телефон уже зарегистрирован на другой документ; данные жителя не изменены",
                    "this phone is already registered with another document; the resident's data was not changed",
                ),
            ),
            RowOutcome::Repeated { first, .. } => (
                "phone_repeated_with_other_document",
                Localized::new(
                    format!("этот телефон уже был в строке {first} с другим документом"),
                    format!("this phone already appeared on line {first} with another document"),
                ),
            ),
        };
        refused.push(Reject {
            line,
            code: problem.0,
            reason: lang.pick(&problem.1).to_string(),
            record,
        });
    }
    tally.rejected += refused.len() as u64;
    tally.bytes = batch.bytes;
    rejects.write(refused)?;
    Ok(())
}

/// The reading thread: lines into checked batches of `size` lines (blank lines skipped).
fn read_batches<R: std::io::BufRead>(
    mut reader: LineReader<R>,
    header: Header,
    size: usize,
    lang: Lang,
    send: mpsc::Sender<std::io::Result<Batch>>,
) {
    let mut buf = Vec::with_capacity(MAX_LINE);
    let new_batch = |first_line| Batch {
        rows: Vec::with_capacity(size),
        rejects: Vec::new(),
        first_line,
        last_line: first_line,
        bytes: 0,
    };
    let mut batch = new_batch(reader.line + 1);
    loop {
        let line = match reader.next_line(&mut buf) {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                let _ = send.blocking_send(Err(e));
                return;
            }
        };
        let number = reader.line;
        let checked = match line {
            Line::TooLong => Err(rows::unreadable(
                "line_too_long",
                &format!("строка длиннее {MAX_LINE} байт"),
                &format!("the line is longer than {MAX_LINE} bytes"),
            )),
            Line::Complete => match std::str::from_utf8(&buf) {
                Err(_) => Err(not_utf8(&buf)),
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => parse_row(&header, number, text),
            },
        };
        match checked {
            Ok(row) => batch
                .rows
                .push((row, String::from_utf8_lossy(&buf).into_owned())),
            Err(problem) => batch.rejects.push(Reject {
                line: number,
                code: problem.code,
                reason: lang.pick(&problem.reason).to_string(),
                record: record(&buf),
            }),
        }
        batch.last_line = number;
        if batch.rows.len() + batch.rejects.len() >= size {
            batch.bytes = reader.bytes;
            let full = std::mem::replace(&mut batch, new_batch(number + 1));
            if send.blocking_send(Ok(full)).is_err() {
                return;
            }
        }
    }
    batch.bytes = reader.bytes;
    if !batch.rows.is_empty() || !batch.rejects.is_empty() {
        let _ = send.blocking_send(Ok(batch));
    }
}

/// A refused line as the rejects file shows it: as it was, or with what is not UTF-8
/// replaced (a line cut at [`MAX_LINE`] loses the character cut in two).
fn record(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(e) if e.error_len().is_none() => {
            String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned()
        }
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// A line that is not UTF-8 (the file's start was: see [`sniff`]).
fn not_utf8(bytes: &[u8]) -> rows::Problem {
    if sniff::looks_windows_1251(bytes) {
        rows::unreadable(
            "not_utf8",
            "строка не в UTF-8, похоже, в Windows-1251; перекодируйте файл в UTF-8",
            "the line is not UTF-8 but looks like Windows-1251; convert the file to UTF-8",
        )
    } else {
        rows::unreadable(
            "not_utf8",
            "строка не в кодировке UTF-8",
            "the line is not UTF-8",
        )
    }
}
