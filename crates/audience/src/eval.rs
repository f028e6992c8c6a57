//! [`Expr`] → the bitmap of members it selects, by bitmap algebra only: tags and categorical
//! values are looked up, numeric comparisons go through the bit-sliced index, and `NOT` is the
//! difference from the universe. No member is ever visited one by one.
//!
//! The plan of an `AND`: its positive operands are intersected smallest first (only the smallest
//! is copied; tags and values are borrowed from the index), then its negated operands are taken
//! away, so `a and not b` never builds the complement of `b`.

use std::borrow::Cow;

use roaring::RoaringBitmap;

use crate::expr::{CategoryOp, Expr};
use crate::index::AudienceIndex;

/// The members of `index` that `expr` selects. Names absent from the index select no one.
pub fn evaluate(expr: &Expr, index: &AudienceIndex) -> RoaringBitmap {
    members(expr, index).into_owned()
}

/// How many members of `index` `expr` selects.
pub fn count(expr: &Expr, index: &AudienceIndex) -> u64 {
    members(expr, index).len()
}

fn members<'a>(expr: &Expr, index: &'a AudienceIndex) -> Cow<'a, RoaringBitmap> {
    let nobody = || Cow::Owned(RoaringBitmap::new());
    match expr {
        Expr::Tag(name) => index.tag(name).map_or_else(nobody, Cow::Borrowed),
        Expr::Category { field, op, value } => {
            let Some(values) = index.categorical(field) else { return nobody() };
            let equal = values.members_with(value);
            match (op, equal) {
                (CategoryOp::Eq, Some(equal)) => Cow::Borrowed(equal),
                (CategoryOp::Eq, None) => nobody(),
                (CategoryOp::Ne, Some(equal)) => Cow::Owned(values.present() - equal),
                (CategoryOp::Ne, None) => Cow::Borrowed(values.present()),
            }
        }
        Expr::In { field, values } => {
            let Some(field) = index.categorical(field) else { return nobody() };
            Cow::Owned(union(values.iter().filter_map(|value| field.members_with(value))))
        }
        Expr::Number { field, op, value } => {
            index.numeric(field).map_or_else(nobody, |values| Cow::Owned(values.compare(*op, *value)))
        }
        Expr::Between { field, low, high } => {
            index.numeric(field).map_or_else(nobody, |values| Cow::Owned(values.between(*low, *high)))
        }
        Expr::Not(inner) => Cow::Owned(index.universe() - members(inner, index).as_ref()),
        Expr::And(operands) => Cow::Owned(intersection(operands, index)),
        Expr::Or(operands) => {
            let parts: Vec<Cow<'_, RoaringBitmap>> = operands.iter().map(|operand| members(operand, index)).collect();
            Cow::Owned(union(parts.iter().map(AsRef::as_ref)))
        }
    }
}

/// The union of `parts`: the largest copied, the others added to it in place. (Roaring's
/// many-way union turns every container into a bitmap first, which costs more than it saves for
/// the few operands an expression has.)
fn union<'a>(parts: impl Iterator<Item = &'a RoaringBitmap>) -> RoaringBitmap {
    let mut parts: Vec<&RoaringBitmap> = parts.collect();
    parts.sort_by_key(|members| std::cmp::Reverse(members.len()));
    let mut parts = parts.into_iter();
    let mut result = parts.next().cloned().unwrap_or_default();
    for part in parts {
        result |= part;
    }
    result
}

fn intersection(operands: &[Expr], index: &AudienceIndex) -> RoaringBitmap {
    let mut positive: Vec<Cow<'_, RoaringBitmap>> = Vec::with_capacity(operands.len());
    let mut negated = Vec::new();
    for operand in operands {
        match operand {
            Expr::Not(inner) => negated.push(inner.as_ref()),
            _ => positive.push(members(operand, index)),
        }
    }
    positive.sort_by_key(|members| members.len());
    let mut parts = positive.into_iter();
    let mut result = match parts.next() {
        Some(smallest) => smallest.into_owned(),
        None => index.universe().clone(),
    };
    for part in parts {
        if result.is_empty() {
            return result;
        }
        result &= part.as_ref();
    }
    for inner in negated {
        if result.is_empty() {
            break;
        }
        result -= members(inner, index).as_ref();
    }
    result
}
