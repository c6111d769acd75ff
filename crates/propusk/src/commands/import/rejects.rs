//! The rejects file: one CSV row per refused line — its line number, a stable code, the
//! reason in the chosen language, and the line as it was — so the rows can be fixed and the
//! file imported again (rows already imported change nothing the second time).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, Result};

pub struct Rejects {
    writer: csv::Writer<BufWriter<File>>,
    pub count: u64,
}

/// One refused line.
pub struct Reject {
    pub line: u64,
    pub code: &'static str,
    pub reason: String,
    pub record: String,
}

impl Rejects {
    /// Creates (or empties) the file and writes its header.
    pub fn create(path: &Path) -> Result<Self> {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut writer = csv::Writer::from_writer(BufWriter::new(file));
        writer.write_record(["line", "code", "reason", "record"])?;
        Ok(Self { writer, count: 0 })
    }

    /// Writes rejects in the order of their lines.
    pub fn write(&mut self, mut rejects: Vec<Reject>) -> Result<()> {
        rejects.sort_by_key(|r| r.line);
        for r in rejects {
            self.writer.write_record([
                r.line.to_string().as_str(),
                r.code,
                &r.reason,
                &r.record,
            ])?;
            self.count += 1;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<u64> {
        self.writer.flush()?;
        Ok(self.count)
    }
}
