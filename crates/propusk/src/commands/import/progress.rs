//! How far an import has got: a progress bar with rows per second and the time left when
//! standard error is a terminal (indicatif), plain lines every few seconds when it is not
//! (a log, a pipe, a CI job).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use propusk_core::Lang;

/// How often a plain progress line is printed.
const LINE_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    lang: Lang,
    /// What is counted, in the plain lines: "import", "passes" …
    label: &'static str,
    total_bytes: u64,
    started: Instant,
    bar: Option<ProgressBar>,
    last_line: Instant,
}

impl Progress {
    /// Progress through a file of `total_bytes` (0 when unknown), or through any count.
    pub fn new(total_bytes: u64, lang: Lang, label: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
            let template = match lang {
                Lang::Ru => "{bar:30} {percent:>3} % {msg}, осталось ~{eta}",
                Lang::En => "{bar:30} {percent:>3}% {msg}, about {eta} left",
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        });
        let now = Instant::now();
        Self {
            lang,
            label,
            total_bytes,
            started: now,
            bar,
            last_line: now,
        }
    }

    /// `rows` rows done, `bytes` of the file read.
    pub fn update(&mut self, bytes: u64, rows: u64) {
        let rate = rows as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        let done = self.lang.tr("строк", "rows");
        let per_second = self.lang.tr("строк/с", "rows/s");
        match &self.bar {
            Some(bar) => {
                bar.set_position(bytes);
                bar.set_message(format!("{rows} {done}, {rate:.0} {per_second}"));
            }
            None if self.last_line.elapsed() >= LINE_EVERY => {
                self.last_line = Instant::now();
                let percent = 100.0 * bytes as f64 / self.total_bytes.max(1) as f64;
                let elapsed = self.started.elapsed().as_secs_f64();
                let left = if bytes > 0 {
                    elapsed * (self.total_bytes.saturating_sub(bytes)) as f64 / bytes as f64
                } else {
                    0.0
                };
                let remaining = self.lang.tr("осталось ~", "about ");
                let tail = self.lang.tr(" с", " s left");
                let progress = self.label;
                eprintln!("{progress}: {percent:.0}%, {rows} {done}, {rate:.0} {per_second}, {remaining}{left:.0}{tail}");
            }
            None => {}
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
