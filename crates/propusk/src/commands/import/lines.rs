//! Reading a registry file line by line, in bounded memory, and splitting a line into its
//! CSV fields.
//!
//! A registry record is one line: names, documents and addresses hold no line breaks (a
//! control character is refused anyway), so a line that leaves a quote open is a broken
//! record, reported with its line number, and the next line is read as the next record. A
//! reader that let a quoted field run on over line breaks would instead swallow every
//! following record up to the next stray quote.
//!
//! Fields follow RFC 4180 within the line: separated by the file's delimiter, either bare
//! (no quotes in them) or quoted (`"…"`, a quote inside written twice).

use std::io::{self, BufRead};

/// The longest line read, in bytes; a longer one is a reject (and is skipped to its end).
pub const MAX_LINE: usize = 4096;

/// What one line was.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The line's bytes (without the line break) are in the buffer.
    Complete,
    /// Longer than [`MAX_LINE`]: the buffer holds its first [`MAX_LINE`] bytes.
    TooLong,
}

/// Reads lines of at most [`MAX_LINE`] bytes, counting them and the bytes consumed.
pub struct LineReader<R> {
    input: R,
    /// Lines read so far (the number of the last one).
    pub line: u64,
    /// Bytes consumed so far.
    pub bytes: u64,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(input: R) -> Self {
        Self {
            input,
            line: 0,
            bytes: 0,
        }
    }

    /// Reads the next line into `buf` (cleared first, `\n` and a `\r` before it dropped);
    /// `None` at the end of the input.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<Line>> {
        buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let available = self.input.fill_buf()?;
            if available.is_empty() {
                break;
            }
            any = true;
            let (chunk, ends) = match memchr_newline(available) {
                Some(i) => (&available[..i], Some(i + 1)),
                None => (available, None),
            };
            let room = MAX_LINE.saturating_sub(buf.len());
            if chunk.len() > room {
                too_long = true;
            }
            buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            let used = ends.unwrap_or(available.len());
            self.input.consume(used);
            self.bytes += used as u64;
            if ends.is_some() {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.line += 1;
        if !too_long && buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(Some(if too_long {
            Line::TooLong
        } else {
            Line::Complete
        }))
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// What is wrong with a line's CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitError {
    /// A quoted field opened at this character (1-based) is not closed on the line.
    UnclosedQuote { column: usize },
    /// A quote inside a bare field, or text after a quoted field's closing quote, at this
    /// character (1-based).
    StrayQuote { column: usize },
}

/// Splits `line` into `fields` (cleared first).
pub fn split(line: &str, delimiter: char, fields: &mut Vec<String>) -> Result<(), SplitError> {
    fields.clear();
    let mut chars = line.chars().enumerate().peekable();
    let mut field = String::new();
    loop {
        // The start of a field.
        match chars.peek() {
            Some(&(open, '"')) => {
                chars.next();
                loop {
                    match chars.next() {
                        None => return Err(SplitError::UnclosedQuote { column: open + 1 }),
                        Some((_, '"')) => match chars.peek() {
                            Some(&(_, '"')) => {
                                chars.next();
                                field.push('"');
                            }
                            Some(&(_, c)) if c == delimiter => break,
                            None => break,
                            Some(&(at, _)) => {
                                return Err(SplitError::StrayQuote { column: at + 1 })
                            }
                        },
                        Some((_, c)) => field.push(c),
                    }
                }
            }
            _ => {
                while let Some(&(at, c)) = chars.peek() {
                    if c == delimiter {
                        break;
                    }
                    if c == '"' {
                        return Err(SplitError::StrayQuote { column: at + 1 });
                    }
                    field.push(c);
                    chars.next();
                }
            }
        }
        fields.push(std::mem::take(&mut field));
        // After a field: a delimiter and another field, or the end.
        match chars.next() {
            Some(_) => continue,
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Result<Vec<String>, SplitError> {
        let mut out = Vec::new();
        split(line, ',', &mut out).map(|()| out)
    }

    #[test]
    fn bare_and_quoted_fields() {
        assert_eq!(fields("a,b,,c").unwrap(), ["a", "b", "", "c"]);
        assert_eq!(fields("").unwrap(), [""]);
        assert_eq!(fields("a,").unwrap(), ["a", ""]);
        assert_eq!(
            fields(r#""Москва, ул. Тверская, д. 1","say ""hi""",x"#).unwrap(),
            ["Москва, ул. Тверская, д. 1", r#"say "hi""#, "x"]
        );
        assert_eq!(fields(r#""""#).unwrap(), [""]);
        let mut out = Vec::new();
        split("a;\"b;c\";d", ';', &mut out).unwrap();
        assert_eq!(out, ["a", "b;c", "d"]);
    }

    #[test]
    fn broken_quotes_say_where() {
        assert_eq!(
            fields(r#"a,"Москва, ул. Тверская"#),
            Err(SplitError::UnclosedQuote { column: 3 })
        );
        assert_eq!(
            fields(r#"a,b"c,d"#),
            Err(SplitError::StrayQuote { column: 4 })
        );
        assert_eq!(
            fields(r#""ab"c,d"#),
            Err(SplitError::StrayQuote { column: 5 })
        );
    }

    #[test]
    fn lines_are_bounded_and_counted() {
        let long = "x".repeat(MAX_LINE + 10);
        let text = format!("one\r\n{long}\nthree");
        let mut reader = LineReader::new(io::BufReader::with_capacity(64, text.as_bytes()));
        let mut buf = Vec::new();
        assert_eq!(reader.next_line(&mut buf).unwrap(), Some(Line::Complete));
        assert_eq!(buf, b"one");
        assert_eq!(reader.next_line(&mut buf).unwrap(), Some(Line::TooLong));
        assert_eq!(buf.len(), MAX_LINE);
        assert_eq!(reader.next_line(&mut buf).unwrap(), Some(Line::Complete));
        assert_eq!(buf, b"three");
        assert_eq!(reader.line, 3);
        assert_eq!(reader.bytes, text.len() as u64);
        assert_eq!(reader.next_line(&mut buf).unwrap(), None);
    }
}
