//! Fast checks that fail before any browser starts: every template compiles and renders in both
//! languages, every UI string a template asks for exists in both locales, and the locales hold
//! the same keys.

use std::collections::BTreeSet;

use super::{
    i18n,
    page::{encode, safe_next},
    render::{Files, Templates},
};
use crate::Lang;

fn template_names() -> Vec<String> {
    let mut names: Vec<String> = Files::iter().map(|n| n.into_owned()).filter(|n| n.ends_with(".html")).collect();
    names.sort();
    names
}

/// Every `t("…")` / `t('…')` key with a literal name in the templates.
fn keys_used() -> BTreeSet<(String, String)> {
    let mut used = BTreeSet::new();
    for name in template_names() {
        let file = Files::get(&name).unwrap();
        let text = String::from_utf8(file.data.into_owned()).unwrap();
        for quote in ['"', '\''] {
            let open = format!("t({quote}");
            let mut rest = text.as_str();
            while let Some(start) = rest.find(&open) {
                let after = &rest[start + open.len()..];
                let end = after.find(quote).unwrap();
                let key = &after[..end];
                // Keys built at render time (`'role-' ~ me.role`) are checked where they are built.
                let next = after[end + 1..].trim_start();
                if !next.starts_with('~') {
                    used.insert((name.clone(), key.to_owned()));
                }
                rest = &after[end..];
            }
        }
    }
    used
}

#[test]
fn every_template_compiles() {
    let templates = Templates::load();
    for name in template_names() {
        templates.render_check(&name).unwrap_or_else(|err| panic!("{name}: {err:#}\n{}", err.display_debug_info()));
    }
}

#[test]
fn every_string_the_templates_use_exists_in_both_languages() {
    let templates = Templates::load();
    let mut missing = Vec::new();
    for (template, key) in keys_used() {
        for lang in [Lang::Zh, Lang::En] {
            if !templates.catalog().has(lang, &key) {
                missing.push(format!("{template}: {key} ({lang:?})"));
            }
        }
    }
    for role in quanyu_domain::org::Role::ALL {
        let key = format!("role-{}", role.as_str());
        for lang in [Lang::Zh, Lang::En] {
            if !templates.catalog().has(lang, &key) {
                missing.push(format!("{key} ({lang:?})"));
            }
        }
    }
    assert!(missing.is_empty(), "missing UI strings:\n{}", missing.join("\n"));
}

#[test]
fn both_locales_hold_the_same_keys() {
    let zh: BTreeSet<_> = i18n::keys("zh-CN").into_iter().collect();
    let en: BTreeSet<_> = i18n::keys("en").into_iter().collect();
    let only_zh: Vec<_> = zh.difference(&en).collect();
    let only_en: Vec<_> = en.difference(&zh).collect();
    assert!(only_zh.is_empty() && only_en.is_empty(), "only in zh-CN: {only_zh:?}; only in en: {only_en:?}");
}

#[test]
fn pages_speak_the_readers_language() {
    let templates = Templates::load();
    let zh = templates.render("login.html", Lang::Zh, minijinja::context! { next => "/" }).unwrap();
    let en = templates.render("login.html", Lang::En, minijinja::context! { next => "/" }).unwrap();
    assert!(zh.contains("<html lang=\"zh-CN\">") && zh.contains("员工登录"), "{zh}");
    assert!(en.contains("<html lang=\"en\">") && en.contains("Staff login"), "{en}");
}

#[test]
fn next_targets_stay_on_this_site() {
    assert_eq!(safe_next(Some("/admin/orders?page=2")), Some("/admin/orders?page=2"));
    assert_eq!(safe_next(Some("//evil.example")), None);
    assert_eq!(safe_next(Some("https://evil.example")), None);
    assert_eq!(safe_next(Some("/\\evil.example")), None);
    assert_eq!(encode("/admin/orders?page=2&q=牛奶"), "/admin/orders%3Fpage%3D2%26q%3D%E7%89%9B%E5%A5%B6");
}
