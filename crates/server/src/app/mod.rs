//! The application layer: what the service does, as typed operations that the JSON API
//! (`routes/`), the pages (`web/`) and the SMS channel share.
//!
//! An operation takes the shared state and typed input, and returns a typed result or an
//! error enum whose refusals are data (the field at fault, the next possible time as a
//! timestamp), never an HTTP status or a sentence to parse back. `routes/` turns the
//! outcome into JSON and problem+json; `web/` into pages. Neither calls the other.
//!
//! Resources move here one at a time; see ARCHITECTURE.md for where each stands.

pub mod cases;
pub mod passes;
pub mod residents;
pub mod sign_in;
#[cfg(test)]
mod wording_tests;
