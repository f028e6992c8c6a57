//! [`Expr`] → the bitmap of members it selects, by bitmap algebra only: tags and categorical
//! values are looked up, numeric comparisons go through the bit-sliced index, and `NOT` is the
//! difference from the universe. No member is ever visited one by one.
//!
//! The plan of an `AND` builds one owned result and narrows it in place: its set operands (tags,
//! categorical values, `IN`s, `OR`s) are ordered by an upper bound of their size read off the
//! bitmaps' lengths; the smallest is evaluated (a copy), the others intersected in that order
//! (tags and values borrowed from the index; a union much larger than the result intersected
//! part by part, never built); then its negated operands are taken away one by one (`not (a or
//! b)` subtracts `a`, then `b`, never building their union or a complement); then its numeric
//! comparisons run among the members left ([`BitSlicedIndex::compare_among`]), so a rare tag
//! prunes the slices' work. An empty result stops the plan.
//!
//! [`BitSlicedIndex::compare_among`]: crate::BitSlicedIndex::compare_among

use std::borrow::Cow;

use roaring::{MultiOps, RoaringBitmap};

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
            Cow::Owned(union(values.iter().filter_map(|value| field.members_with(value)), index.universe().len()))
        }
        Expr::Number { field, op, value } => {
            index.numeric(field).map_or_else(nobody, |values| Cow::Owned(values.compare(*op, *value)))
        }
        Expr::Between { field, low, high } => {
            index.numeric(field).map_or_else(nobody, |values| Cow::Owned(values.between(*low, *high)))
        }
        Expr::Not(inner) => {
            let mut result = index.universe().clone();
            remove(inner, index, &mut result);
            Cow::Owned(result)
        }
        Expr::And(operands) => Cow::Owned(intersection(operands, index)),
        Expr::Or(operands) => {
            let parts: Vec<Cow<'_, RoaringBitmap>> = operands.iter().map(|operand| members(operand, index)).collect();
            Cow::Owned(union(parts.iter().map(AsRef::as_ref), index.universe().len()))
        }
    }
}

/// The union of `parts` among a universe of `everyone` members. Sparse parts (together below
/// one member in [`SPARSE_UNION`] of the universe, so the union stays in array containers): the
/// largest copied, the others merged in one by one; roaring's many-way union would turn every
/// container into an 8 KB bitmap and back. Three or more denser parts: the many-way union,
/// because adding large arrays to an array one by one merges and reallocates it each time.
fn union<'a>(parts: impl Iterator<Item = &'a RoaringBitmap>, everyone: u64) -> RoaringBitmap {
    let mut parts: Vec<&RoaringBitmap> = parts.collect();
    let total: u64 = parts.iter().map(|part| part.len()).sum();
    if parts.len() > 2 && total.saturating_mul(SPARSE_UNION) > everyone {
        return parts.union();
    }
    parts.sort_by_key(|members| std::cmp::Reverse(members.len()));
    let mut parts = parts.into_iter();
    let mut result = parts.next().cloned().unwrap_or_default();
    for part in parts {
        result |= part;
    }
    result
}

/// Below one member in this many of the universe, a union's containers are mostly arrays
/// (roaring keeps a container of at most 4,096 of its 65,536 ordinals as an array).
const SPARSE_UNION: u64 = 16;

fn is_comparison(expr: &Expr) -> bool {
    matches!(expr, Expr::Number { .. } | Expr::Between { .. })
}

/// When an `AND`'s operand narrows the result: sets first (intersected smallest first), then
/// negations of sets (one subtraction each), then comparisons among the members left, then
/// negated comparisons.
fn stage(operand: &Expr) -> u8 {
    match operand {
        Expr::Not(inner) if is_comparison(inner) => 3,
        Expr::Not(_) => 1,
        operand if is_comparison(operand) => 2,
        _ => 0,
    }
}

/// An upper bound of how many members a set operand selects, from the sizes of the bitmaps it
/// would read, without evaluating it.
fn estimate(expr: &Expr, index: &AudienceIndex) -> u64 {
    let size = |members: Option<&RoaringBitmap>| members.map_or(0, RoaringBitmap::len);
    match expr {
        Expr::Tag(name) => size(index.tag(name)),
        Expr::Category { field, op: CategoryOp::Eq, value } => {
            size(index.categorical(field).and_then(|values| values.members_with(value)))
        }
        Expr::Category { field, op: CategoryOp::Ne, .. } => {
            size(index.categorical(field).map(|values| values.present()))
        }
        Expr::In { field, values } => {
            let Some(field) = index.categorical(field) else { return 0 };
            values.iter().map(|value| size(field.members_with(value))).sum()
        }
        Expr::Or(operands) => operands.iter().map(|operand| estimate(operand, index)).sum(),
        Expr::And(operands) => operands.iter().map(|operand| estimate(operand, index)).min().unwrap_or(0),
        _ => index.universe().len(),
    }
}

fn intersection(operands: &[Expr], index: &AudienceIndex) -> RoaringBitmap {
    let mut order: Vec<(u8, u64, &Expr)> = operands
        .iter()
        .map(|operand| match stage(operand) {
            0 => (0, estimate(operand, index), operand),
            stage => (stage, 0, operand),
        })
        .collect();
    order.sort_by_key(|(stage, estimate, _)| (*stage, *estimate));
    let mut rest: Vec<&Expr> = order.into_iter().map(|(_, _, operand)| operand).collect();
    // The smallest set in full, or else the first comparison, or else everyone; every other
    // operand narrows it.
    let mut result = match rest.iter().position(|operand| stage(operand) == 0 || is_comparison(operand)) {
        Some(first) => members(rest.remove(first), index).into_owned(),
        None => index.universe().clone(),
    };
    for operand in rest {
        retain(operand, index, &mut result);
    }
    result
}

/// Narrows `result` to the members `expr` selects too (`result ∩= expr`). A union much larger
/// than `result` is intersected part by part, so it is never built.
fn retain(expr: &Expr, index: &AudienceIndex, result: &mut RoaringBitmap) {
    if result.is_empty() {
        return;
    }
    let part_by_part = result.len().saturating_mul(UNION_PART_BY_PART);
    match expr {
        Expr::Number { field, op, value } => {
            *result = index.numeric(field).map(|values| values.compare_among(*op, *value, result)).unwrap_or_default();
        }
        Expr::Between { field, low, high } => {
            *result = index.numeric(field).map(|values| values.between_among(*low, *high, result)).unwrap_or_default();
        }
        Expr::Not(inner) => remove(inner, index, result),
        Expr::And(operands) => operands.iter().for_each(|operand| retain(operand, index, result)),
        Expr::Category { field, op: CategoryOp::Ne, value } => match index.categorical(field) {
            Some(values) => {
                *result &= values.present();
                if let Some(equal) = values.members_with(value) {
                    *result -= equal;
                }
            }
            None => result.clear(),
        },
        Expr::In { field, values } if estimate(expr, index) > part_by_part => {
            let mut kept = RoaringBitmap::new();
            if let Some(field) = index.categorical(field) {
                for members in values.iter().filter_map(|value| field.members_with(value)) {
                    kept |= &*result & members;
                }
            }
            *result = kept;
        }
        Expr::Or(operands) if estimate(expr, index) > part_by_part => {
            let mut kept = RoaringBitmap::new();
            for operand in operands {
                let mut part = result.clone();
                retain(operand, index, &mut part);
                kept |= part;
            }
            *result = kept;
        }
        _ => *result &= members(expr, index).as_ref(),
    }
}

/// A union whose parts hold more than this many times the members of the result it narrows is
/// intersected part by part instead of built.
const UNION_PART_BY_PART: u64 = 4;

/// Takes the members `expr` selects out of `result` (`result −= expr`).
fn remove(expr: &Expr, index: &AudienceIndex, result: &mut RoaringBitmap) {
    if result.is_empty() {
        return;
    }
    match expr {
        Expr::Or(operands) => operands.iter().for_each(|operand| remove(operand, index, result)),
        Expr::Not(inner) => retain(inner, index, result),
        Expr::Number { field, op, value } => {
            if let Some(values) = index.numeric(field) {
                *result -= &values.compare_among(*op, *value, result);
            }
        }
        Expr::Between { field, low, high } => {
            if let Some(values) = index.numeric(field) {
                *result -= &values.between_among(*low, *high, result);
            }
        }
        _ => *result -= members(expr, index).as_ref(),
    }
}
