//! The caller's language, from `Accept-Language`: zh-CN unless English is preferred.

use axum::http::{HeaderMap, header::ACCEPT_LANGUAGE};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// The most preferred of zh and en in an `Accept-Language` header (q-values honoured);
    /// zh when neither is named.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        let Some(value) = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
            return Lang::Zh;
        };
        let mut best: Option<(f32, Lang)> = None;
        for item in value.split(',') {
            let mut parts = item.trim().split(';');
            let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .filter(|q| q.is_finite())
                .map_or(1.0, |q| q.min(1.0));
            let lang = if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else if tag == "zh" || tag.starts_with("zh-") {
                Lang::Zh
            } else {
                continue;
            };
            // q=0 says "not this one" (RFC 9110, 12.4.2); a q past 1 or not a number, as 1.
            if q <= 0.0 {
                continue;
            }
            if best.is_none_or(|(best_q, _)| q > best_q) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::Zh, |(_, lang)| lang)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(header: &str) -> Lang {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_LANGUAGE, header.parse().unwrap());
        Lang::from_headers(&headers)
    }

    #[test]
    fn picks_the_preferred_language() {
        assert_eq!(Lang::from_headers(&HeaderMap::new()), Lang::Zh);
        assert_eq!(lang("en"), Lang::En);
        assert_eq!(lang("en-US,en;q=0.9"), Lang::En);
        assert_eq!(lang("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh);
        assert_eq!(lang("fr-FR, en;q=0.5, zh;q=0.7"), Lang::Zh);
        assert_eq!(lang("fr-FR"), Lang::Zh);
    }

    #[test]
    fn a_language_weighted_zero_is_refused() {
        assert_eq!(lang("en;q=0"), Lang::Zh);
        assert_eq!(lang("en;q=0.0, zh;q=0"), Lang::Zh, "neither: the default");
        assert_eq!(lang("zh;q=0, en;q=0.1"), Lang::En);
        assert_eq!(lang("en;q=NaN"), Lang::En, "an unreadable weight counts as 1");
    }
}
