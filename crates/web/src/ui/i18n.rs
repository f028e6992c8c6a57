//! UI strings in zh-CN and en, from Fluent files embedded under `ui/i18n/<locale>/*.ftl` (one
//! file per face, so each face owns its words).

use std::collections::HashMap;

use fluent_bundle::{FluentArgs, FluentResource, FluentValue, concurrent::FluentBundle};
use rust_embed::RustEmbed;

use crate::Lang;

#[derive(RustEmbed)]
#[folder = "ui/i18n"]
struct Files;

/// Both locales' bundles, built once at start.
pub struct Catalog {
    zh: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

impl Catalog {
    /// Loads every `.ftl` file of both locales. Panics on a syntax error or a duplicate key:
    /// the files are part of the binary, and a test loads them.
    pub fn load() -> Catalog {
        Catalog { zh: bundle("zh-CN"), en: bundle("en") }
    }

    /// The message `key` in `lang` with `args`; the key itself when the message is missing (a
    /// test checks every key the templates use).
    pub fn text(&self, lang: Lang, key: &str, args: &HashMap<String, String>) -> String {
        let bundle = match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        };
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            tracing::warn!(key, "missing UI message");
            return key.to_owned();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value.parse::<f64>() {
                Ok(number) => fluent_args.set(name.clone(), FluentValue::from(number)),
                Err(_) => fluent_args.set(name.clone(), FluentValue::from(value.clone())),
            }
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(key, ?errors, "UI message formatted with errors");
        }
        text.into_owned()
    }

    /// Whether `lang` has `key` (for tests).
    #[cfg(test)]
    pub fn has(&self, lang: Lang, key: &str) -> bool {
        match lang {
            Lang::Zh => self.zh.has_message(key),
            Lang::En => self.en.has_message(key),
        }
    }
}

fn bundle(locale: &str) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = locale.parse().expect("a valid locale");
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: they show as boxes in some fonts and break
    // text matching in tests.
    bundle.set_use_isolating(false);
    let prefix = format!("{locale}/");
    let mut names: Vec<_> = Files::iter().filter(|name| name.starts_with(&prefix) && name.ends_with(".ftl")).collect();
    names.sort();
    for name in names {
        let file = Files::get(&name).expect("listed file");
        let source = String::from_utf8(file.data.into_owned()).expect("UTF-8 .ftl file");
        let resource = FluentResource::try_new(source).unwrap_or_else(|(_, errors)| panic!("{name}: {errors:?}"));
        bundle.add_resource(resource).unwrap_or_else(|errors| panic!("{name}: {errors:?}"));
    }
    bundle
}

/// Every message key of `locale`, for the completeness test.
#[cfg(test)]
pub fn keys(locale: &str) -> Vec<String> {
    let prefix = format!("{locale}/");
    let mut keys = Vec::new();
    for name in Files::iter().filter(|name| name.starts_with(&prefix)) {
        let file = Files::get(&name).expect("listed file");
        let source = String::from_utf8(file.data.into_owned()).expect("UTF-8");
        keys.extend(
            source
                .lines()
                .filter(|line| line.starts_with(|c: char| c.is_ascii_lowercase()))
                .filter_map(|line| line.split_once('=').map(|(key, _)| key.trim().to_owned())),
        );
    }
    keys
}
