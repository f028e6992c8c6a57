//! Validated text: trimmed, non-empty, bounded names and codes; digests written as hex.
//!
//! Every text a caller gives passes through [`required`] or [`optional`] (or a newtype built on
//! them), which also refuse control characters: PostgreSQL cannot store NUL at all, and no
//! retail text means a bell or an escape. Tab, line feed and carriage return stay allowed, so
//! notes and addresses may span lines.

use crate::Expected;
use crate::{DomainError, DomainResult};

/// Trims `raw` and checks it is non-empty, at most `max` characters and [`plain`].
pub fn required(field: &'static str, raw: &str, max: usize) -> DomainResult<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(DomainError::Required { field });
    }
    if trimmed.chars().count() > max {
        return Err(DomainError::TooLong { field, max });
    }
    plain(field, trimmed)?;
    Ok(trimmed.to_owned())
}

/// Refuses text holding a control character other than tab, line feed and carriage return
/// (NUL, escape, DEL, the C1 range…). For text kept as given, untrimmed and unbounded, such as
/// free-form values inside JSON.
pub fn plain(field: &'static str, raw: &str) -> DomainResult<()> {
    if raw.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        return Err(DomainError::InvalidText { field });
    }
    Ok(())
}

/// Like [`required`], but an empty or missing value is `None`.
pub fn optional(field: &'static str, raw: Option<&str>, max: usize) -> DomainResult<Option<String>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => required(field, value, max).map(Some),
    }
}

/// A code (store code, SKU code, username): 1..=max of ASCII letters, digits, `-`, `_`, `.`.
pub fn code(field: &'static str, raw: &str, max: usize) -> DomainResult<String> {
    let value = required(field, raw, max)?;
    if value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        Ok(value)
    } else {
        Err(DomainError::Malformed { field, expected: Expected::CodeCharacters })
    }
}

/// A mainland-China mobile number: 11 digits starting with 1. A leading `+86` is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> DomainResult<Phone> {
        let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = compact.strip_prefix("+86").unwrap_or(&compact);
        let ok = digits.len() == 11 && digits.starts_with('1') && digits.bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(Phone(digits.to_owned()))
        } else {
            Err(DomainError::Malformed { field: "phone", expected: Expected::MobileNumber })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lower-case hex of `bytes` (how digests of secrets and requests are stored and compared).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_two_lower_case_digits_per_byte() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        let every: Vec<u8> = (0..=255).collect();
        let expect: String = every.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(&every), expect);
    }

    #[test]
    fn required_trims_and_bounds() {
        assert_eq!(required("name", "  鲜果  ", 4).unwrap(), "鲜果");
        assert_eq!(required("name", "   ", 4), Err(DomainError::Required { field: "name" }));
        assert_eq!(required("name", "一二三四五", 4), Err(DomainError::TooLong { field: "name", max: 4 }));
    }

    #[test]
    fn control_characters_are_refused_but_lines_are_not() {
        for bad in ["a\u{0}b", "\u{0}", "x\u{7}", "esc\u{1b}[0m", "del\u{7f}", "c1\u{85}x"] {
            assert_eq!(required("note", bad, 50), Err(DomainError::InvalidText { field: "note" }), "{bad:?}");
            assert_eq!(optional("note", Some(bad), 50), Err(DomainError::InvalidText { field: "note" }), "{bad:?}");
        }
        assert_eq!(code("code", "A\u{0}", 8), Err(DomainError::InvalidText { field: "code" }));
        assert_eq!(required("note", "第一行\r\n第二行\t完", 50).unwrap(), "第一行\r\n第二行\t完");
        assert_eq!(required("note", "👨‍👩‍👧 \u{202e} RTL", 50).unwrap(), "👨‍👩‍👧 \u{202e} RTL", "format characters are text");
        assert!(plain("value", "  trailing\n").is_ok());
    }

    #[test]
    fn codes_are_ascii() {
        assert!(code("code", "SH-001", 32).is_ok());
        assert!(code("code", "上海一店", 32).is_err());
        assert!(code("code", "a b", 32).is_err());
    }

    #[test]
    fn phones() {
        assert_eq!(Phone::parse("+86 138-0013-8000").unwrap().as_str(), "13800138000");
        for bad in ["1380013800", "23800138000", "1380013800a", ""] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }
}
