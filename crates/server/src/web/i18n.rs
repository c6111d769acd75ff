//! The pages' texts, in Project Fluent files compiled into the binary: `locales/ru.ftl` and
//! `locales/en.ftl`, and one pair of files for each area listed in [`AREAS`]
//! (`locales/ru/<area>.ftl`, `locales/en/<area>.ftl`). A missing message shows its id, never
//! a panic, and a test checks that both languages have every message.

use std::collections::HashMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use crate::lang::Lang;

/// The Fluent sources of one language: the main file, then each area's.
macro_rules! sources {
    ($lang:literal: $($area:literal),*) => {
        &[
            include_str!(concat!("../../locales/", $lang, ".ftl")),
            $(include_str!(concat!("../../locales/", $lang, "/", $area, ".ftl")),)*
        ]
    };
}

/// The areas with Fluent files of their own (one per language), so that work on one
/// area's texts does not touch another's.
macro_rules! areas {
    ($($area:literal),*) => {
        const RU: &[&str] = sources!("ru": $($area),*);
        const EN: &[&str] = sources!("en": $($area),*);
        #[cfg(test)]
        const AREAS: &[&str] = &[$($area),*];
    };
}
areas!("forms", "resident", "trust", "officers", "patients", "staff");

fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    static BUNDLES: OnceLock<HashMap<&'static str, FluentBundle<FluentResource>>> = OnceLock::new();
    let bundles = BUNDLES.get_or_init(|| {
        [(Lang::Ru, RU), (Lang::En, EN)]
            .into_iter()
            .map(|(lang, source)| {
                let id = lang.code().parse().unwrap_or_default();
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                // Isolation marks around arguments confuse screen readers and copy-paste.
                bundle.set_use_isolating(false);
                for source in source.iter() {
                    let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(
                        |(res, errors)| {
                            tracing::error!(?errors, lang = lang.code(), "locale file has errors");
                            res
                        },
                    );
                    if let Err(errors) = bundle.add_resource(resource) {
                        tracing::error!(?errors, lang = lang.code(), "a message is defined twice");
                    }
                }
                (lang.code(), bundle)
            })
            .collect()
    });
    &bundles[lang.code()]
}

/// The texts of one page render, in one language.
#[derive(Clone, Copy, Debug)]
pub struct Texts {
    pub lang: Lang,
}

impl Texts {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    /// The message `id`.
    pub fn t(&self, id: &str) -> String {
        self.format(id, None)
    }

    /// The message `id` with one argument.
    pub fn t1(&self, id: &str, name: &str, value: &str) -> String {
        let mut args = FluentArgs::new();
        args.set(name, FluentValue::from(value.to_string()));
        self.format(id, Some(&args))
    }

    /// The message `id` with two arguments.
    pub fn t2(&self, id: &str, a: (&str, &str), b: (&str, &str)) -> String {
        let mut args = FluentArgs::new();
        args.set(a.0, FluentValue::from(a.1.to_string()));
        args.set(b.0, FluentValue::from(b.1.to_string()));
        self.format(id, Some(&args))
    }

    pub fn format(&self, id: &str, args: Option<&FluentArgs>) -> String {
        let bundle = bundle(self.lang);
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_string();
        };
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned()
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

/// Message ids defined in a Fluent source.
#[cfg(test)]
fn ids(sources: &[&str]) -> std::collections::BTreeSet<String> {
    let all: Vec<String> = sources
        .iter()
        .flat_map(|s| s.lines())
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim().to_string()))
        .collect();
    let unique: std::collections::BTreeSet<String> = all.iter().cloned().collect();
    assert_eq!(unique.len(), all.len(), "a message id is defined twice");
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_every_message() {
        let (ru, en) = (ids(RU), ids(EN));
        assert!(ru.len() > 20);
        assert_eq!(RU.len(), AREAS.len() + 1);
        let missing_en: Vec<_> = ru.difference(&en).collect();
        let missing_ru: Vec<_> = en.difference(&ru).collect();
        assert!(
            missing_en.is_empty() && missing_ru.is_empty(),
            "en lacks {missing_en:?}, ru lacks {missing_ru:?}"
        );
        for id in &ru {
            assert_ne!(Texts::new(Lang::Ru).t(id), *id, "ru {id} resolves");
            assert_ne!(Texts::new(Lang::En).t(id), *id, "en {id} resolves");
        }
    }

    /// Whether message `id` is an error or refusal a person reads (whole sentences).
    fn is_error(id: &str) -> bool {
        const ENDINGS: &[&str] = &[
            "-invalid",
            "-missing",
            "-wrong",
            "-unknown",
            "-required",
            "-long",
            "-far",
            "-busy",
            "-too-large",
            "-gone",
            "-not-possible",
            "-not-found",
            "-exists",
            "-wrong-state",
            "-not-active",
            "-incomplete",
            "-not-later",
            "-wrong-status",
            "-not-health",
            "-already-answered",
            "-empty",
            "-length",
            "-character",
            "-failed",
            "-taken",
            "-short",
            "-mismatch",
            "-typo",
            "-used",
        ];
        // Labels whose ids read like an error's: a link and a tag.
        const LABELS: &[&str] = &["refused-other-purpose", "officer-statement-exists"];
        !LABELS.contains(&id)
            && ((id.starts_with("refused-") && !id.ends_with("-title"))
                || (id.starts_with("error-") && id.ends_with("-text"))
                || ["forbidden-text", "lang-unknown-text"].contains(&id)
                || ENDINGS.iter().any(|e| id.ends_with(e)))
    }

    /// The wording test for the pages' texts: no message, with its arguments filled in,
    /// shows an identifier, a raw value or stray punctuation, and every error message is
    /// whole sentences beginning with a capital (see `propusk_core::wording`).
    #[test]
    fn every_message_reads_well() {
        let mut args = FluentArgs::new();
        for source in RU.iter().chain(EN) {
            for (i, _) in source.match_indices('$') {
                let name: String = source[i + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                args.set(name, FluentValue::from("5"));
            }
        }
        let mut found = Vec::new();
        let mut errors = 0;
        for id in ids(RU) {
            for lang in [Lang::Ru, Lang::En] {
                let text = Texts::new(lang).format(&id, Some(&args));
                let problems = if is_error(&id) {
                    errors += 1;
                    propusk_core::wording::problems(&text, lang)
                } else {
                    propusk_core::wording::stray_marks(&text, lang)
                };
                found.extend(problems.into_iter().map(|p| format!("{id}: {p}")));
            }
        }
        assert!(errors > 40, "the error messages are found by their ids");
        assert!(found.is_empty(), "{}", found.join("\n"));
    }
}
