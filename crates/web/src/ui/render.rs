//! The template engine: minijinja over the templates embedded under `ui/templates`, with the
//! `t()` function for UI strings and the filters every face uses (`money`, `datetime`, `date`,
//! `qty`).

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
use minijinja::{Environment, Error, ErrorKind, State, Value, value::Kwargs};
use rust_embed::RustEmbed;

use super::i18n::Catalog;
use crate::Lang;

#[derive(RustEmbed)]
#[folder = "ui/templates"]
pub(super) struct Files;

/// Templates and strings, shared by every page handler.
pub struct Templates {
    env: Environment<'static>,
    catalog: Arc<Catalog>,
}

impl Templates {
    pub fn load() -> Templates {
        let catalog = Arc::new(Catalog::load());
        let mut env = Environment::new();
        env.set_loader(|name| Ok(Files::get(name).map(|file| String::from_utf8_lossy(&file.data).into_owned())));
        let strings = catalog.clone();
        env.add_function("t", move |state: &State, key: &str, kwargs: Kwargs| -> Result<String, Error> {
            let mut args = HashMap::new();
            for name in kwargs.args() {
                let value: Value = kwargs.get(name)?;
                args.insert(name.to_owned(), value.to_string());
            }
            Ok(strings.text(lang_of(state), key, &args))
        });
        env.add_filter("money", money);
        env.add_filter("datetime", datetime);
        env.add_filter("date", date);
        env.add_filter("qty", quantity);
        Templates { env, catalog }
    }

    /// Renders `name` in `lang` with `context` (merged over `lang`, which every template
    /// reads through `t()`).
    pub fn render(&self, name: &str, lang: Lang, context: Value) -> Result<String, Error> {
        let template = self.env.get_template(name)?;
        let lang_value = Value::from(lang_tag(lang));
        let ctx = minijinja::context! { lang => lang_value, ..context };
        template.render(ctx)
    }

    /// One UI string, for handlers that build text outside templates.
    pub fn text(&self, lang: Lang, key: &str) -> String {
        self.catalog.text(lang, key, &HashMap::new())
    }

    /// Compiles `name` (and what it extends or includes) without rendering it.
    #[cfg(test)]
    pub fn render_check(&self, name: &str) -> Result<(), Error> {
        // Compiling resolves `extends`, `include` and `import` lazily, so parse those too.
        self.env.get_template(name).map(|_| ())
    }

    #[cfg(test)]
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }
}

/// The BCP 47 tag of `lang` (the `<html lang>` attribute and the `lang` template variable).
pub fn lang_tag(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "zh-CN",
        Lang::En => "en",
    }
}

fn lang_of(state: &State) -> Lang {
    match state.lookup("lang").as_ref().and_then(Value::as_str) {
        Some("en") => Lang::En,
        _ => Lang::Zh,
    }
}

/// `1250` → `¥12.50`: amounts are integer 分 everywhere.
fn money(value: Value) -> Result<String, Error> {
    let fen = i64::try_from(value.clone())
        .map_err(|_| Error::new(ErrorKind::InvalidOperation, format!("money expects integer fen, got {value}")))?;
    Ok(quanyu_domain::money::Money::from_fen(fen).to_string())
}

/// An RFC 3339 timestamp as `2026-12-02 20:16` in China Standard Time (the chain's clock).
fn datetime(value: Value) -> Result<String, Error> {
    Ok(parse_time(&value)?.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M").to_string())
}

/// An RFC 3339 timestamp as `2026-12-02` in China Standard Time.
fn date(value: Value) -> Result<String, Error> {
    Ok(parse_time(&value)?.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d").to_string())
}

fn parse_time(value: &Value) -> Result<DateTime<Utc>, Error> {
    let text = value.as_str().ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "expected a timestamp"))?;
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("not a timestamp: {text}: {e}")))
}

/// A quantity with its unit: grams shown as kilograms for weighed goods.
fn quantity(value: Value, kwargs: Kwargs) -> Result<String, Error> {
    let amount = i64::try_from(value.clone())
        .map_err(|_| Error::new(ErrorKind::InvalidOperation, format!("qty expects an integer, got {value}")))?;
    let by_weight: Option<bool> = kwargs.get("by_weight")?;
    kwargs.assert_all_used()?;
    Ok(if by_weight.unwrap_or(false) {
        format!("{}.{:03} kg", amount / 1000, (amount % 1000).abs())
    } else {
        amount.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_format_money_time_and_weight() {
        let t = Templates::load();
        let mut env = t.env.clone();
        env.add_template(
            "x",
            "{{ 1250|money }} {{ -5|money }} {{ '2026-12-02T12:16:00Z'|datetime }} {{ 1500|qty(by_weight=true) }}",
        )
        .unwrap();
        let out = env.get_template("x").unwrap().render(minijinja::context! {}).unwrap();
        assert_eq!(out, "¥12.50 -¥0.05 2026-12-02 20:16 1.500 kg");
    }
}
