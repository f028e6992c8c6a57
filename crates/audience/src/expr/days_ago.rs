//! Fields written as "days ago" (`last_order_days > 30`) over an index that stores the day itself.
//!
//! How many days ago something happened changes every midnight for every member, so an index
//! holding it would go stale each day without anyone changing. The index keeps the day number
//! instead (days since 1970-01-01), which changes only when the member does; an expression is
//! rewritten against today before it is evaluated: `days > n` is `day < today − n`, and so on.

use super::Expr;
use crate::bsi::CompareOp;

impl Expr {
    /// Rewrites every comparison of `field` (days before `today`) into the same comparison of the
    /// day numbers kept in `stored`. A day after `today` (a clock running ahead) reads as
    /// fewer than zero days ago: it is below every `days >= n` and within every `days <= n`.
    pub fn days_ago(self, field: &str, stored: &str, today: u64) -> Expr {
        let stored_as = |op, value| Expr::Number { field: stored.to_owned(), op, value };
        // Every member with a value; no member.
        let anyone = || stored_as(CompareOp::Ge, 0);
        let nobody = || Expr::Or(Vec::new());
        match self {
            Expr::Number { field: name, op, value } if name == field => match today.checked_sub(value) {
                // `days <op> value` with the day `value` days before today.
                Some(day) => stored_as(mirrored(op), day),
                // More days ago than there have been days: no day qualifies for `=`, `>`, `>=`;
                // every day does for `!=`, `<`, `<=`.
                None => match op {
                    CompareOp::Eq | CompareOp::Gt | CompareOp::Ge => nobody(),
                    CompareOp::Ne | CompareOp::Lt | CompareOp::Le => anyone(),
                },
            },
            Expr::Between { field: name, low, high } if name == field => match today.checked_sub(low) {
                None => nobody(),
                Some(latest) => {
                    Expr::Between { field: stored.to_owned(), low: today.saturating_sub(high), high: latest }
                }
            },
            Expr::Not(operand) => Expr::Not(Box::new(operand.days_ago(field, stored, today))),
            Expr::And(operands) => Expr::And(operands.into_iter().map(|e| e.days_ago(field, stored, today)).collect()),
            Expr::Or(operands) => Expr::Or(operands.into_iter().map(|e| e.days_ago(field, stored, today)).collect()),
            other => other,
        }
    }
}

/// The comparison of day numbers that means `op` on days ago: more days ago is an earlier day.
fn mirrored(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Eq => CompareOp::Eq,
        CompareOp::Ne => CompareOp::Ne,
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{AudienceIndex, eval};

    const TODAY: u64 = 20_000;

    /// An index where member `i` has `days[i]` days ago in `ago` and the day itself in `day`
    /// (members `days.len()..` have neither).
    fn index(days: &[u64]) -> AudienceIndex {
        let mut index = AudienceIndex::default();
        for (member, &ago) in days.iter().enumerate() {
            let member = u32::try_from(member).unwrap();
            index.set_number(member, "ago", ago);
            index.set_number(member, "day", TODAY - ago);
        }
        index.insert_member(u32::try_from(days.len()).unwrap());
        index
    }

    fn op() -> impl Strategy<Value = CompareOp> {
        proptest::sample::select(CompareOp::ALL.to_vec())
    }

    /// A bound near the members' values, or past every day there has been.
    fn bound() -> impl Strategy<Value = u64> {
        prop_oneof![0u64..60, Just(TODAY), Just(TODAY + 1), Just(u64::MAX)]
    }

    proptest! {
        #[test]
        fn a_comparison_of_days_ago_selects_the_same_members_on_day_numbers(
            days in proptest::collection::vec(prop_oneof![0u64..60, Just(TODAY)], 1..40),
            op in op(),
            value in bound(),
            low in bound(),
            high in bound(),
        ) {
            let index = index(&days);
            let comparison = Expr::Number { field: "ago".into(), op, value };
            let range = Expr::Between { field: "ago".into(), low, high };
            let nested = Expr::Or(vec![Expr::Not(Box::new(comparison.clone())), Expr::And(vec![range.clone()])]);
            for expr in [comparison, range, nested] {
                let rewritten = expr.clone().days_ago("ago", "day", TODAY);
                prop_assert_eq!(eval::evaluate(&rewritten, &index), eval::evaluate(&expr, &index), "{}", expr);
            }
        }
    }

    #[test]
    fn other_fields_are_left_as_they_are() {
        let expr = Expr::And(vec![
            Expr::Number { field: "points".into(), op: CompareOp::Ge, value: 500 },
            Expr::Tag("投诉".into()),
        ]);
        assert_eq!(expr.clone().days_ago("last_order_days", "last_order_day", TODAY), expr);
    }

    #[test]
    fn more_than_30_days_ago_is_before_the_day_30_days_back() {
        let expr = Expr::Number { field: "last_order_days".into(), op: CompareOp::Gt, value: 30 };
        let day = Expr::Number { field: "last_order_day".into(), op: CompareOp::Lt, value: TODAY - 30 };
        assert_eq!(expr.days_ago("last_order_days", "last_order_day", TODAY), day);
    }
}
