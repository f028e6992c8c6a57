//! What a segment expression may name: which tags exist, and which fields exist with their kind.
//!
//! The parser resolves every name against a [`Schema`], so a parsed [`Expr`](crate::Expr) never
//! names an unknown tag or field, nor compares a categorical field with `>`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// How a field's values are stored and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// One value out of a set (`lifecycle`, `tier`, `home_store`, `region`): `=`, `!=`, `in`.
    Categorical,
    /// A non-negative integer (`points`, `last_order_days`, `spend_365d` in 分): ordered comparisons.
    Numeric,
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Categorical => "categorical",
            Self::Numeric => "numeric",
        })
    }
}

/// The names a segment expression may use. Field names should be identifiers (letters, CJK
/// included, digits and `_`, not starting with a digit, not a keyword) to be writable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    tags: BTreeSet<String>,
    fields: BTreeMap<String, FieldKind>,
}

impl Schema {
    /// Declares a tag.
    pub fn with_tag(mut self, name: impl Into<String>) -> Self {
        self.add_tag(name);
        self
    }

    /// Declares a field; a second declaration of the same name replaces the first.
    pub fn with_field(mut self, name: impl Into<String>, kind: FieldKind) -> Self {
        self.add_field(name, kind);
        self
    }

    pub fn add_tag(&mut self, name: impl Into<String>) {
        self.tags.insert(name.into());
    }

    pub fn add_field(&mut self, name: impl Into<String>, kind: FieldKind) {
        self.fields.insert(name.into(), kind);
    }

    pub fn has_tag(&self, name: &str) -> bool {
        self.tags.contains(name)
    }

    pub fn field_kind(&self, name: &str) -> Option<FieldKind> {
        self.fields.get(name).copied()
    }

    /// Every field with its kind, by name (for help texts and editors).
    pub fn fields(&self) -> impl Iterator<Item = (&str, FieldKind)> {
        self.fields.iter().map(|(name, kind)| (name.as_str(), *kind))
    }
}
