//! The pages' texts, in Project Fluent files (`locales/ru.ftl`, `locales/en.ftl`),
//! compiled into the binary. A missing message shows its id, never a panic, and
//! a test checks that both languages have every message.

use std::collections::HashMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use crate::lang::Lang;

const RU: &str = include_str!("../../locales/ru.ftl");
const EN: &str = include_str!("../../locales/en.ftl");

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
                let resource =
                    FluentResource::try_new(source.to_string()).unwrap_or_else(|(res, errors)| {
                        tracing::error!(?errors, lang = lang.code(), "locale file has errors");
                        res
                    });
                let _ = bundle.add_resource(resource);
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
fn ids(source: &str) -> std::collections::BTreeSet<String> {
    source
        .lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_every_message() {
        let (ru, en) = (ids(RU), ids(EN));
        assert!(ru.len() > 20);
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
}
