//! Properties of the whole engine: bitmap evaluation agrees with a naive per-member evaluation of
//! the same AST on random populations, an index cut into shards answers counts, members and
//! lookalikes as the whole index does, printing an AST and parsing it back is the identity, and
//! no input makes the parser panic.

use proptest::prelude::*;
use quanyu_audience::{
    AudienceIndex, CategoryOp, CompareOp, Expr, FieldKind, Schema, Shards, count, evaluate, lookalike, parse,
};

const TAGS: [&str; 4] = ["vip", "爱买生鲜", "has space", "and"];
const CATEGORICAL: [&str; 2] = ["lifecycle", "门店"];
const NUMERIC: [&str; 2] = ["points", "spend_365d"];
/// Members take the first `MEMBER_VALUES`; expressions also name the rest, which no one has.
const VALUES: [&str; 8] = ["growth", "成熟期", "SH 001", "in", "a\"b\\c", "", "123", "platinum"];
const MEMBER_VALUES: usize = 5;

#[derive(Debug, Clone)]
struct Member {
    tags: u8,
    categories: [Option<usize>; 2],
    numbers: [Option<u64>; 2],
    removed: bool,
}

fn number() -> impl Strategy<Value = u64> {
    prop_oneof![6 => 0u64..40, 1 => any::<u64>(), 1 => Just(u64::MAX), 1 => Just(0u64)]
}

fn member() -> impl Strategy<Value = Member> {
    let category = proptest::option::of(0..MEMBER_VALUES);
    (
        0u8..16,
        [category.clone(), category],
        [proptest::option::of(number()), proptest::option::of(number())],
        proptest::bool::weighted(0.05),
    )
        .prop_map(|(tags, categories, numbers, removed)| Member { tags, categories, numbers, removed })
}

fn name(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(names).prop_map(str::to_owned)
}

fn expr() -> impl Strategy<Value = Expr> {
    let compare = proptest::sample::select(CompareOp::ALL.to_vec());
    let category_op = prop_oneof![Just(CategoryOp::Eq), Just(CategoryOp::Ne)];
    let leaf = prop_oneof![
        name(&TAGS).prop_map(Expr::Tag),
        (name(&CATEGORICAL), category_op, name(&VALUES)).prop_map(|(field, op, value)| Expr::Category {
            field,
            op,
            value
        }),
        (name(&CATEGORICAL), proptest::collection::vec(name(&VALUES), 1..4))
            .prop_map(|(field, values)| Expr::In { field, values }),
        (name(&NUMERIC), compare, number()).prop_map(|(field, op, value)| Expr::Number { field, op, value }),
        (name(&NUMERIC), number(), number()).prop_map(|(field, low, high)| Expr::Between { field, low, high }),
    ];
    leaf.prop_recursive(4, 48, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|operand| Expr::Not(Box::new(operand))),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            proptest::collection::vec(inner, 2..4).prop_map(Expr::Or),
        ]
    })
}

fn schema() -> Schema {
    let schema = TAGS.into_iter().fold(Schema::default(), Schema::with_tag);
    let schema = CATEGORICAL.into_iter().fold(schema, |schema, field| schema.with_field(field, FieldKind::Categorical));
    NUMERIC.into_iter().fold(schema, |schema, field| schema.with_field(field, FieldKind::Numeric))
}

/// Builds the index through the builder API, setting stale values first so that replacing and
/// clearing are exercised too.
fn index_of(members: &[(u32, Member)]) -> AudienceIndex {
    let mut index = AudienceIndex::default();
    for (ordinal, member) in members {
        let ordinal = *ordinal;
        index.insert_member(ordinal);
        for (bit, tag) in TAGS.iter().enumerate() {
            if member.tags >> bit & 1 == 1 {
                index.add_tag(ordinal, tag);
            }
        }
        for (field, value) in CATEGORICAL.iter().zip(member.categories) {
            index.set_category(ordinal, field, VALUES[ordinal as usize % MEMBER_VALUES]);
            match value {
                Some(value) => index.set_category(ordinal, field, VALUES[value]),
                None => assert!(index.clear_category(ordinal, field)),
            }
        }
        for (field, value) in NUMERIC.iter().zip(member.numbers) {
            index.set_number(ordinal, field, u64::from(ordinal).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            match value {
                Some(value) => index.set_number(ordinal, field, value),
                None => assert!(index.clear_number(ordinal, field)),
            }
        }
        if member.removed {
            assert!(index.remove_member(ordinal));
        }
    }
    index
}

fn position(names: &[&str], name: &str) -> usize {
    names.iter().position(|candidate| *candidate == name).unwrap_or(usize::MAX)
}

/// The reference semantics: one member at a time.
fn naive(expr: &Expr, member: &Member) -> bool {
    let category = |field: &str| {
        member.categories.get(position(&CATEGORICAL, field)).copied().flatten().map(|value| VALUES[value])
    };
    let number = |field: &str| member.numbers.get(position(&NUMERIC, field)).copied().flatten();
    match expr {
        Expr::Tag(name) => member.tags.checked_shr(position(&TAGS, name) as u32).is_some_and(|tags| tags & 1 == 1),
        Expr::Category { field, op, value } => {
            category(field).is_some_and(|actual| (actual == value) == (*op == CategoryOp::Eq))
        }
        Expr::In { field, values } => category(field).is_some_and(|actual| values.iter().any(|value| value == actual)),
        Expr::Number { field, op, value } => number(field).is_some_and(|actual| match op {
            CompareOp::Eq => actual == *value,
            CompareOp::Ne => actual != *value,
            CompareOp::Lt => actual < *value,
            CompareOp::Le => actual <= *value,
            CompareOp::Gt => actual > *value,
            CompareOp::Ge => actual >= *value,
        }),
        Expr::Between { field, low, high } => number(field).is_some_and(|actual| *low <= actual && actual <= *high),
        Expr::Not(inner) => !naive(inner, member),
        Expr::And(operands) => operands.iter().all(|operand| naive(operand, member)),
        Expr::Or(operands) => operands.iter().any(|operand| naive(operand, member)),
    }
}

proptest! {
    // Each case builds an index of up to 2,000 members; fewer cases keep the debug-build run short.
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// With and without the numeric fields' bins, and through [`Shards`]: wide strides spread the
    /// members over several roaring containers, so the shards' cuts fall between them (some
    /// shards are not made); the offset near `u32::MAX` wraps members around to the lowest
    /// ordinals, so the last shard holds the highest ordinals there are.
    #[test]
    fn bitmap_evaluation_matches_naive_evaluation(
        population in proptest::collection::vec(member(), 0..2000),
        stride in prop_oneof![1u32..5, 30u32..300],
        offset in prop_oneof![Just(0u32), Just(70_000u32), Just(u32::MAX - 10_000)],
        binned in any::<bool>(),
        shard_count in 1usize..5,
        exprs in proptest::collection::vec(expr(), 1..6),
    ) {
        let members: Vec<(u32, Member)> =
            (0u32..).zip(population).map(|(i, member)| (offset.wrapping_add(i * stride), member)).collect();
        let mut index = index_of(&members);
        if binned {
            index.rebin_numeric();
        }
        let shards = Shards::new(index.clone(), shard_count);
        prop_assert!(shards.shards().len() <= shard_count);
        for expr in &exprs {
            let expected: Vec<u32> = members
                .iter()
                .filter(|(_, member)| !member.removed && naive(expr, member))
                .map(|(ordinal, _)| *ordinal)
                .collect();
            let mut expected = expected;
            expected.sort_unstable();
            let actual: Vec<u32> = evaluate(expr, &index).iter().collect();
            prop_assert_eq!(&actual, &expected, "{}", expr);
            prop_assert_eq!(count(expr, &index), expected.len() as u64);
            prop_assert_eq!(shards.evaluate(expr).iter().collect::<Vec<_>>(), expected.clone(), "{} sharded", expr);
            prop_assert_eq!(shards.count(expr), expected.len() as u64);
        }
    }

    /// A lookalike over shards weighs the features over all members and ranks every shard's
    /// members by the same weights: the same members, scores and reasons as over the whole index.
    #[test]
    fn sharded_lookalike_matches_the_whole_index(
        population in proptest::collection::vec(member(), 0..2000),
        stride in prop_oneof![1u32..5, 30u32..300],
        shard_count in 1usize..5,
        seed in expr(),
        within in proptest::option::of(expr()),
        limit in 1usize..40,
    ) {
        let members: Vec<(u32, Member)> = (0u32..).zip(population).map(|(i, member)| (i * stride, member)).collect();
        let index = index_of(&members);
        let shards = Shards::new(index.clone(), shard_count);
        let seed_members = evaluate(&seed, &index);
        let candidates = within.as_ref().map_or_else(|| index.universe().clone(), |within| evaluate(within, &index));
        let whole = lookalike(&index, &seed_members, &candidates, limit);
        prop_assert_eq!(shards.lookalike(&seed_members, within.as_ref(), limit), whole, "{} within {:?}", seed, within);
    }

}

proptest! {
    #[test]
    fn printing_then_parsing_gives_the_same_tree(expr in expr()) {
        prop_assert_eq!(parse(&expr.to_string(), &schema()), Ok(expr.clone()), "{}", expr);
    }

    #[test]
    fn parsing_never_panics(source in "[#()a-z爱 \n=<>!&|\",\\\\0-9]{0,40}", raw in any::<String>()) {
        let schema = schema();
        for source in [source, raw] {
            if let Err(error) = parse(&source, &schema) {
                prop_assert!(error.position().offset <= source.len());
                prop_assert!(!error.code().is_empty());
            }
        }
    }
}
