//! The columnar full rebuild of RFM scores and lifecycle stages: every customer's scores from a
//! table of paid orders held as columns (customer ordinal, day, amount in 分), in two passes.
//!
//! 1. **Tally**: each order of the scoring window is added to its customer's [`Tally`] (orders,
//!    spend, last order day), after a radix scatter of the orders into partitions of customers
//!    small enough for the CPU's cache ([`tally`]).
//! 2. **Score**: each customer's tally becomes an [`Activity`] and goes through
//!    [`assess`](crate::lifecycle::assess), the same function the product applies per order and
//!    per page, so the rules exist once.
//!
//! [`Tally::add_order`] is also the incremental step: one order moves one customer's tally in
//! O(1), and rescoring that customer is one [`assess`](crate::lifecycle::assess) call.
//!
//! Pure: no I/O; the caller owns the columns (memory-mapped files, a database read, a test).

use std::fmt;

use crate::{
    lifecycle::{Activity, Rfm, ScoringRules, Stage, WINDOW_DAYS, assess},
    memory,
};

/// Paid orders as parallel columns, one row per order; days are whole days since a fixed epoch
/// (the product uses 1970-01-01, which fits `u16` until 2149).
#[derive(Debug, Clone, Copy)]
pub struct OrderColumns<'a> {
    pub customer: &'a [u32],
    pub day: &'a [u16],
    /// What the order paid, in 分.
    pub amount: &'a [u32],
}

/// What is wrong with the columns handed to a rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebuildError {
    /// The order columns (or the registration days and the customer count) differ in length.
    Lengths { expected: usize, found: usize },
    /// An order names a customer ordinal outside `0..customers`.
    UnknownCustomer { row: usize, customer: u32 },
}

impl fmt::Display for RebuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lengths { expected, found } => write!(f, "a column has {found} rows where {expected} were expected"),
            Self::UnknownCustomer { row, customer } => write!(f, "order row {row} names unknown customer {customer}"),
        }
    }
}

impl std::error::Error for RebuildError {}

/// One customer's orders in the scoring window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// What the orders paid, in 分.
    pub spend: u64,
    pub orders: u32,
    /// The last order's day plus one; 0 when there is none.
    last_day_plus_one: u32,
}

impl Tally {
    /// Counts one paid order: O(1).
    pub fn add_order(&mut self, day: u16, amount: u32) {
        self.orders += 1;
        self.spend += u64::from(amount);
        self.last_day_plus_one = self.last_day_plus_one.max(u32::from(day) + 1);
    }

    /// The day of the last order, if any.
    pub fn last_order_day(&self) -> Option<u16> {
        self.last_day_plus_one.checked_sub(1).and_then(|day| u16::try_from(day).ok())
    }

    /// What the scores are computed from, for a customer registered on `registered_day`.
    pub fn activity(&self, registered_day: u16) -> Activity {
        Activity {
            registered_day: i64::from(registered_day),
            last_order_day: self.last_order_day().map(i64::from),
            orders: i64::from(self.orders),
            spend: i64::try_from(self.spend).unwrap_or(i64::MAX),
        }
    }
}

/// Every customer's scores, indexed by ordinal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub tallies: Vec<Tally>,
    pub rfm: Vec<Rfm>,
    pub stage: Vec<Stage>,
}

/// The first day of the window that ends on `today`.
pub fn window_start(today: u16) -> u16 {
    u16::try_from((i64::from(today) - WINDOW_DAYS).max(0)).unwrap_or(0)
}

/// Customers per partition of the tally: 65,536 tallies (1 MiB) stay in the CPU's cache while
/// a partition's orders are added up.
const PARTITION_SHIFT: u32 = 16;

/// One thread's share of the orders in the window, grouped by partition: partition `p`'s orders
/// are `entries[offsets[p]..offsets[p + 1]]`, each packed as the customer's low 16 bits, the
/// day (16 bits) and the amount (32 bits).
struct Scattered {
    offsets: Vec<usize>,
    entries: Vec<u64>,
}

/// Each customer's tally of the orders on or after `since`, over `threads` threads.
///
/// A tally per customer is far larger than the CPU's caches (160 MB for 10M customers), and the
/// orders come in no particular customer order, so adding them up directly would miss the cache
/// on nearly every order. Instead each thread first scatters its rows of the window into
/// partitions of 65,536 customers (a counting and a placing pass, both sequential), and then
/// each partition is added up with its tallies in cache, partitions shared among threads.
pub fn tally(
    orders: OrderColumns<'_>,
    customers: usize,
    since: u16,
    threads: usize,
) -> Result<Vec<Tally>, RebuildError> {
    let mut tallies = memory::filled(customers, Tally::default());
    let partitions = tallies.chunks_mut(PARTITION).map(|tallies| (tallies, ())).collect();
    tally_partitions(orders, customers, since, threads, partitions, |_, ()| {})?;
    Ok(tallies)
}

/// Customers per partition (see [`PARTITION_SHIFT`]).
const PARTITION: usize = 1 << PARTITION_SHIFT;

/// A customer's place in its partition, as packed into the low 16 bits of a scattered entry.
const IN_PARTITION: u32 = (1 << PARTITION_SHIFT) - 1;
const _: () = assert!(PARTITION_SHIFT <= 16, "an entry keeps 16 bits of the customer");

/// Adds up the orders on or after `since` into `partitions` (partition `p` holds the tallies of
/// customers `p * PARTITION..`, with what `then` needs besides), then calls `then` on each
/// partition's finished tallies while they are still in cache.
fn tally_partitions<W: Send>(
    orders: OrderColumns<'_>,
    customers: usize,
    since: u16,
    threads: usize,
    partitions: Vec<(&mut [Tally], W)>,
    then: impl Fn(&[Tally], W) + Sync,
) -> Result<(), RebuildError> {
    let rows = orders.customer.len();
    for column in [orders.day.len(), orders.amount.len()] {
        if column != rows {
            return Err(RebuildError::Lengths { expected: rows, found: column });
        }
    }
    let threads = threads.max(1);
    let count = partitions.len();
    let chunk = rows.div_ceil(threads).max(1);
    let scattered = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..rows)
            .step_by(chunk)
            .map(|start| {
                scope.spawn(move || scatter(orders, customers, since, start..(start + chunk).min(rows), count))
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect::<Vec<_>>()
    });
    let scattered = scattered.into_iter().collect::<Result<Vec<_>, _>>()?;

    let mut shares: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
    for (partition, work) in partitions.into_iter().enumerate() {
        shares[partition % threads].push((partition, work));
    }
    std::thread::scope(|scope| {
        for share in shares {
            let (scattered, then) = (&scattered, &then);
            scope.spawn(move || {
                for (partition, (tallies, work)) in share {
                    for part in scattered {
                        for &entry in &part.entries[part.offsets[partition]..part.offsets[partition + 1]] {
                            if let Some(tally) = tallies.get_mut((entry & u64::from(IN_PARTITION)) as usize) {
                                tally.add_order((entry >> 16) as u16, (entry >> 32) as u32);
                            }
                        }
                    }
                    then(tallies, work);
                }
            });
        }
    });
    Ok(())
}

fn scatter(
    orders: OrderColumns<'_>,
    customers: usize,
    since: u16,
    rows: std::ops::Range<usize>,
    partitions: usize,
) -> Result<Scattered, RebuildError> {
    let start = rows.start;
    let customer = &orders.customer[rows.clone()];
    let day = &orders.day[rows.clone()];
    let amount = &orders.amount[rows];
    let mut offsets = vec![0usize; partitions + 1];
    for (offset, (&customer, &day)) in customer.iter().zip(day).enumerate() {
        if day < since {
            continue;
        }
        if customer as usize >= customers {
            return Err(RebuildError::UnknownCustomer { row: start + offset, customer });
        }
        offsets[(customer >> PARTITION_SHIFT) as usize + 1] += 1;
    }
    for partition in 0..partitions {
        offsets[partition + 1] += offsets[partition];
    }
    let mut cursor = offsets.clone();
    let mut entries = memory::zeroed_words(offsets[partitions]);
    for ((&customer, &day), &amount) in customer.iter().zip(day).zip(amount) {
        if day < since {
            continue;
        }
        let at = &mut cursor[(customer >> PARTITION_SHIFT) as usize];
        entries[*at] = u64::from(customer & IN_PARTITION) | u64::from(day) << 16 | u64::from(amount) << 32;
        *at += 1;
    }
    Ok(Scattered { offsets, entries })
}

/// Scores every customer on `today`: `registered_day[c]` is customer `c`'s registration day, and
/// `orders` their paid orders (any order; those before the window are left out). Each partition
/// of customers is scored as soon as its tallies are added up, while they are in cache.
pub fn rebuild(
    orders: OrderColumns<'_>,
    registered_day: &[u16],
    today: u16,
    rules: &ScoringRules,
    threads: usize,
) -> Result<Rebuilt, RebuildError> {
    let customers = registered_day.len();
    let mut rebuilt = Rebuilt {
        tallies: memory::filled(customers, Tally::default()),
        rfm: memory::filled(customers, Rfm::default()),
        stage: memory::filled(customers, Stage::Introduction),
    };
    let partitions = rebuilt
        .tallies
        .chunks_mut(PARTITION)
        .zip(rebuilt.rfm.chunks_mut(PARTITION).zip(rebuilt.stage.chunks_mut(PARTITION)))
        .zip(registered_day.chunks(PARTITION))
        .map(|((tallies, out), registered)| (tallies, (out, registered)))
        .collect();
    let score = |tallies: &[Tally], ((rfm, stage), registered): ((&mut [Rfm], &mut [Stage]), &[u16])| {
        for (((tally, &registered), rfm), stage) in tallies.iter().zip(registered).zip(rfm).zip(stage) {
            let assessed = assess(&tally.activity(registered), i64::from(today), rules);
            (*rfm, *stage) = (assessed.rfm, assessed.stage);
        }
    };
    tally_partitions(orders, customers, window_start(today), threads, partitions, score)?;
    Ok(rebuilt)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::lifecycle::Assessment;

    /// Orders as (customer, day, amount) rows.
    fn columns(rows: &[(u32, u16, u32)]) -> (Vec<u32>, Vec<u16>, Vec<u32>) {
        let customer = rows.iter().map(|r| r.0).collect();
        let day = rows.iter().map(|r| r.1).collect();
        let amount = rows.iter().map(|r| r.2).collect();
        (customer, day, amount)
    }

    /// The rules applied one customer at a time, straight from the definition.
    fn naive(rows: &[(u32, u16, u32)], registered: &[u16], today: u16, rules: &ScoringRules) -> Vec<Assessment> {
        let since = i64::from(today) - WINDOW_DAYS;
        (0u32..)
            .zip(registered)
            .map(|(customer, &registered)| {
                let mine: Vec<_> = rows.iter().filter(|r| r.0 == customer && i64::from(r.1) >= since).collect();
                let activity = Activity {
                    registered_day: i64::from(registered),
                    last_order_day: mine.iter().map(|r| i64::from(r.1)).max(),
                    orders: mine.len() as i64,
                    spend: mine.iter().map(|r| i64::from(r.2)).sum(),
                };
                assess(&activity, i64::from(today), rules)
            })
            .collect()
    }

    #[test]
    fn window_edges_and_customers_without_orders() {
        let today = 1_000;
        let rows = [(0, 635, 100), (0, 634, 5_000), (1, 999, 20_000), (1, 990, 30_000), (1, 995, 1)];
        let (customer, day, amount) = columns(&rows);
        let orders = OrderColumns { customer: &customer, day: &day, amount: &amount };
        let rebuilt = rebuild(orders, &[0, 0, 990], today, &ScoringRules::default(), 2).unwrap();
        assert_eq!(rebuilt.tallies[0].orders, 1, "day 634 is before the window");
        assert_eq!(rebuilt.tallies[0].spend, 100);
        assert_eq!(rebuilt.tallies[1].last_order_day(), Some(999));
        assert_eq!(rebuilt.tallies[1].spend, 50_001);
        assert_eq!(rebuilt.tallies[2], Tally::default());
        assert_eq!(rebuilt.stage, [Stage::Churned, Stage::Maturity, Stage::Introduction]);
        assert_eq!(rebuilt.rfm[1], Rfm { r: 5, f: 3, m: 3 });
        assert_eq!(rebuilt.rfm[2].r, 0);
    }

    #[test]
    fn bad_columns_are_refused() {
        let orders = OrderColumns { customer: &[0, 3], day: &[1, 1], amount: &[1, 1] };
        let refused = rebuild(orders, &[0, 0], 10, &ScoringRules::default(), 1);
        assert_eq!(refused, Err(RebuildError::UnknownCustomer { row: 1, customer: 3 }));
        let orders = OrderColumns { customer: &[0, 1], day: &[1], amount: &[1, 1] };
        let refused = rebuild(orders, &[0, 0], 10, &ScoringRules::default(), 1);
        assert_eq!(refused, Err(RebuildError::Lengths { expected: 2, found: 1 }));
        let empty = OrderColumns { customer: &[], day: &[], amount: &[] };
        assert_eq!(rebuild(empty, &[], 10, &ScoringRules::default(), 4), Ok(Rebuilt::default()));
    }

    #[test]
    fn many_partitions_add_up_like_one_pass() {
        let customers = 200_000; // four partitions, the last one partial
        let mut state = 1u64;
        let mut next = || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            state >> 33
        };
        let rows: Vec<(u32, u16, u32)> = (0..50_000)
            .map(|_| ((next() % customers) as u32, (next() % 1_000) as u16, next() as u32 % 100_000))
            .collect();
        let (customer, day, amount) = columns(&rows);
        let orders = OrderColumns { customer: &customer, day: &day, amount: &amount };
        let mut expected = vec![Tally::default(); customers as usize];
        for &(customer, day, amount) in rows.iter().filter(|r| r.1 >= 300) {
            expected[customer as usize].add_order(day, amount);
        }
        for threads in [1, 2, 3] {
            assert_eq!(tally(orders, customers as usize, 300, threads).unwrap(), expected, "{threads} threads");
        }
    }

    proptest! {
        #[test]
        fn rebuild_matches_the_rules_applied_one_customer_at_a_time(
            rows in prop::collection::vec((0u32..20, 0u16..1_200, 0u32..300_000), 0..300),
            registered in prop::collection::vec(0u16..1_000, 20),
            today in 365u16..1_200,
            threads in 1usize..4,
        ) {
            let rules = ScoringRules::default();
            let (customer, day, amount) = columns(&rows);
            let orders = OrderColumns { customer: &customer, day: &day, amount: &amount };
            let rebuilt = rebuild(orders, &registered, today, &rules, threads).unwrap();
            let expected = naive(&rows, &registered, today, &rules);
            let got: Vec<Assessment> =
                rebuilt.rfm.iter().zip(&rebuilt.stage).map(|(&rfm, &stage)| Assessment { rfm, stage }).collect();
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn one_order_at_a_time_equals_the_rebuild(
            rows in prop::collection::vec((0u32..5, 700u16..1_000, 0u32..300_000), 0..100),
        ) {
            let registered = [0u16; 5];
            let (customer, day, amount) = columns(&rows);
            let orders = OrderColumns { customer: &customer, day: &day, amount: &amount };
            let rebuilt = rebuild(orders, &registered, 1_000, &ScoringRules::default(), 1).unwrap();
            let mut incremental = [Tally::default(); 5];
            for &(customer, day, amount) in &rows {
                incremental[customer as usize].add_order(day, amount);
            }
            prop_assert_eq!(rebuilt.tallies, incremental.to_vec());
        }
    }
}
