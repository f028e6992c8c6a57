//! [`Expr`] → the bitmap of members it selects, by bitmap algebra only: tags and categorical
//! values are looked up, numeric comparisons go through the bit-sliced index, and `NOT` is the
//! difference from the universe. No member is ever visited one by one.

use roaring::RoaringBitmap;

use crate::expr::{CategoryOp, Expr};
use crate::index::AudienceIndex;

/// The members of `index` that `expr` selects. Names absent from the index select no one.
pub fn evaluate(expr: &Expr, index: &AudienceIndex) -> RoaringBitmap {
    match expr {
        Expr::Tag(name) => index.tag(name).cloned().unwrap_or_default(),
        Expr::Category { field, op, value } => {
            let Some(values) = index.categorical(field) else { return RoaringBitmap::new() };
            let equal = values.members_with(value).cloned().unwrap_or_default();
            match op {
                CategoryOp::Eq => equal,
                CategoryOp::Ne => values.present() - equal,
            }
        }
        Expr::In { field, values } => {
            let Some(field) = index.categorical(field) else { return RoaringBitmap::new() };
            values
                .iter()
                .filter_map(|value| field.members_with(value))
                .fold(RoaringBitmap::new(), |all, members| all | members)
        }
        Expr::Number { field, op, value } => {
            index.numeric(field).map(|values| values.compare(*op, *value)).unwrap_or_default()
        }
        Expr::Between { field, low, high } => {
            index.numeric(field).map(|values| values.between(*low, *high)).unwrap_or_default()
        }
        Expr::Not(inner) => index.universe() - evaluate(inner, index),
        Expr::And(operands) => {
            let mut members = index.universe().clone();
            for operand in operands {
                if members.is_empty() {
                    break;
                }
                members &= evaluate(operand, index);
            }
            members
        }
        Expr::Or(operands) => {
            operands.iter().fold(RoaringBitmap::new(), |members, operand| members | evaluate(operand, index))
        }
    }
}

/// How many members of `index` `expr` selects.
pub fn count(expr: &Expr, index: &AudienceIndex) -> u64 {
    evaluate(expr, index).len()
}
