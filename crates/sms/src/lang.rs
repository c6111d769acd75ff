//! The language of a reply: Russian unless the sender wrote in English (the core's [`Lang`]).

pub use propusk_core::Lang;
