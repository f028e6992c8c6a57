//! [`Expr`] → the bitmap of members it selects, by bitmap algebra only: tags and categorical
//! values are looked up, numeric comparisons go through the bit-sliced index, and `NOT` is the
//! difference from the universe. No member is ever visited one by one.
//!
//! The plan of an `AND` builds one result and narrows it in place: its set operands (tags,
//! categorical values, `IN`s, `OR`s) are ordered by an upper bound of their size read off the
//! bitmaps' lengths; the smallest is the start (a tag or value stays the index's own bitmap
//! until the first narrowing builds the result from it, never a copy narrowed afterwards), the
//! others intersected in that order (a union much larger than the result intersected part by
//! part, never built); then its negated operands are taken away one by one (`not (a or b)`
//! subtracts `a`, then `b`, never building their union or a complement); then its numeric
//! comparisons narrow the members left in place ([`BitSlicedIndex::retain_matching`]), so a rare
//! tag prunes the slices' work and the result is never copied to be compared. An empty result
//! stops the plan.
//!
//! [`BitSlicedIndex::retain_matching`]: crate::BitSlicedIndex::retain_matching

use std::borrow::Cow;

use roaring::{MultiOps, RoaringBitmap};

use crate::expr::{CategoryOp, Expr};
use crate::index::AudienceIndex;
use crate::narrow::{Members, intersect, nobody, subtract};

/// The members of `index` that `expr` selects. Names absent from the index select no one.
pub fn evaluate(expr: &Expr, index: &AudienceIndex) -> RoaringBitmap {
    members(expr, index).into_owned()
}

/// How many members of `index` `expr` selects.
pub fn count(expr: &Expr, index: &AudienceIndex) -> u64 {
    members(expr, index).len()
}

fn members<'a>(expr: &Expr, index: &'a AudienceIndex) -> Members<'a> {
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
            let mut result = Cow::Borrowed(index.universe());
            remove(inner, index, &mut result);
            result
        }
        Expr::And(operands) => intersection(operands, index),
        Expr::Or(operands) => {
            let parts: Vec<Members<'_>> = operands.iter().map(|operand| members(operand, index)).collect();
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
    // The first two parts make the result in one pass, not a copy and then a merge.
    let mut result = match (parts.next(), parts.next()) {
        (Some(largest), Some(next)) => largest | next,
        (largest, _) => largest.cloned().unwrap_or_default(),
    };
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

fn intersection<'a>(operands: &[Expr], index: &'a AudienceIndex) -> Members<'a> {
    let mut order: Vec<(u8, u64, &Expr)> = operands
        .iter()
        .map(|operand| match stage(operand) {
            0 => (0, estimate(operand, index), operand),
            stage => (stage, 0, operand),
        })
        .collect();
    order.sort_by_key(|(stage, estimate, _)| (*stage, *estimate));
    let mut rest: Vec<&Expr> = order.into_iter().map(|(_, _, operand)| operand).collect();
    // The smallest set, or else the first comparison, or else everyone; every other operand
    // narrows it (the first narrowing builds the result from the index's bitmap, not a copy).
    let mut result = match rest.iter().position(|operand| stage(operand) == 0 || is_comparison(operand)) {
        Some(first) => members(rest.remove(first), index),
        None => Cow::Borrowed(index.universe()),
    };
    for operand in rest {
        retain(operand, index, &mut result);
    }
    result
}

/// Narrows `result` to the members `expr` selects too (`result ∩= expr`). A union much larger
/// than `result` is intersected part by part, so it is never built.
fn retain<'a>(expr: &Expr, index: &'a AudienceIndex, result: &mut Members<'a>) {
    if result.is_empty() {
        return;
    }
    let part_by_part = result.len().saturating_mul(UNION_PART_BY_PART);
    match expr {
        Expr::Number { field, op, value } => match index.numeric(field) {
            Some(values) => values.retain_matching(*op, *value, result),
            None => *result = nobody(),
        },
        Expr::Between { field, low, high } => match index.numeric(field) {
            Some(values) => values.retain_between(*low, *high, result),
            None => *result = nobody(),
        },
        Expr::Not(inner) => remove(inner, index, result),
        Expr::And(operands) => operands.iter().for_each(|operand| retain(operand, index, result)),
        Expr::Category { field, op: CategoryOp::Ne, value } => match index.categorical(field) {
            Some(values) => {
                intersect(result, values.present());
                if let Some(equal) = values.members_with(value) {
                    subtract(result, equal);
                }
            }
            None => *result = nobody(),
        },
        Expr::In { field, values } if estimate(expr, index) > part_by_part => {
            let mut kept = RoaringBitmap::new();
            if let Some(field) = index.categorical(field) {
                for members in values.iter().filter_map(|value| field.members_with(value)) {
                    kept |= result.as_ref() & members;
                }
            }
            *result = Cow::Owned(kept);
        }
        Expr::Or(operands) if estimate(expr, index) > part_by_part => {
            let mut kept = RoaringBitmap::new();
            for operand in operands {
                let mut part = Cow::Borrowed(result.as_ref());
                retain(operand, index, &mut part);
                kept |= part.into_owned();
            }
            *result = Cow::Owned(kept);
        }
        _ => intersect(result, members(expr, index).as_ref()),
    }
}

/// A union whose parts hold more than this many times the members of the result it narrows is
/// intersected part by part instead of built.
const UNION_PART_BY_PART: u64 = 4;

/// Takes the members `expr` selects out of `result` (`result −= expr`).
fn remove<'a>(expr: &Expr, index: &'a AudienceIndex, result: &mut Members<'a>) {
    if result.is_empty() {
        return;
    }
    match expr {
        Expr::Or(operands) => operands.iter().for_each(|operand| remove(operand, index, result)),
        Expr::Not(inner) => retain(inner, index, result),
        Expr::Number { field, op, value } => {
            if let Some(values) = index.numeric(field) {
                let matching = values.compare_among(*op, *value, result);
                subtract(result, &matching);
            }
        }
        Expr::Between { field, low, high } => {
            if let Some(values) = index.numeric(field) {
                let matching = values.between_among(*low, *high, result);
                subtract(result, &matching);
            }
        }
        _ => subtract(result, members(expr, index).as_ref()),
    }
}
