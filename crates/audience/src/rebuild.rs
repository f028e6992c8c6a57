//! The columnar full rebuild of RFM scores and lifecycle stages: every customer's scores from a
//! table of paid orders held as columns (customer ordinal, day, amount in 分), in two passes.
//!
//! 1. **Tally**: one pass over the orders adds each order of the scoring window to its
//!    customer's [`Tally`] (orders, spend, last order day), split over threads by rows, each
//!    thread into its own tallies, merged at the end.
//! 2. **Score**: each customer's tally becomes an [`Activity`] and goes through
//!    [`assess`](crate::lifecycle::assess), the same function the product applies per order and
//!    per page, so the rules exist once.
//!
//! [`Tally::add_order`] is also the incremental step: one order moves one customer's tally in
//! O(1), and rescoring that customer is one [`assess`](crate::lifecycle::assess) call.
//!
//! Pure: no I/O; the caller owns the columns (memory-mapped files, a database read, a test).

use std::fmt;

use crate::lifecycle::{Activity, Assessment, Rfm, ScoringRules, Stage, WINDOW_DAYS, assess};

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

    /// Adds another tally of the same customer (over other orders).
    fn merge(&mut self, other: &Tally) {
        self.orders += other.orders;
        self.spend += other.spend;
        self.last_day_plus_one = self.last_day_plus_one.max(other.last_day_plus_one);
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

/// Each customer's tally of the orders on or after `since`, over `threads` threads.
pub fn tally(
    orders: OrderColumns<'_>,
    customers: usize,
    since: u16,
    threads: usize,
) -> Result<Vec<Tally>, RebuildError> {
    let rows = orders.customer.len();
    for column in [orders.day.len(), orders.amount.len()] {
        if column != rows {
            return Err(RebuildError::Lengths { expected: rows, found: column });
        }
    }
    let chunk = rows.div_ceil(threads.max(1)).max(1);
    let partial = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..rows)
            .step_by(chunk)
            .map(|start| {
                let end = (start + chunk).min(rows);
                scope.spawn(move || tally_rows(orders, customers, since, start..end))
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect::<Vec<_>>()
    });
    let mut partial = partial.into_iter();
    let mut tallies = match partial.next() {
        Some(first) => first?,
        None => vec![Tally::default(); customers],
    };
    for other in partial {
        for (tally, other) in tallies.iter_mut().zip(&other?) {
            tally.merge(other);
        }
    }
    Ok(tallies)
}

fn tally_rows(
    orders: OrderColumns<'_>,
    customers: usize,
    since: u16,
    rows: std::ops::Range<usize>,
) -> Result<Vec<Tally>, RebuildError> {
    let mut tallies = vec![Tally::default(); customers];
    let start = rows.start;
    let customer = &orders.customer[rows.clone()];
    let day = &orders.day[rows.clone()];
    let amount = &orders.amount[rows];
    for (offset, ((&customer, &day), &amount)) in customer.iter().zip(day).zip(amount).enumerate() {
        if day < since {
            continue;
        }
        let Some(tally) = tallies.get_mut(customer as usize) else {
            return Err(RebuildError::UnknownCustomer { row: start + offset, customer });
        };
        tally.add_order(day, amount);
    }
    Ok(tallies)
}

/// Scores every customer on `today`: `registered_day[c]` is customer `c`'s registration day, and
/// `orders` their paid orders (any order; those before the window are left out).
pub fn rebuild(
    orders: OrderColumns<'_>,
    registered_day: &[u16],
    today: u16,
    rules: &ScoringRules,
    threads: usize,
) -> Result<Rebuilt, RebuildError> {
    let tallies = tally(orders, registered_day.len(), window_start(today), threads)?;
    let customers = tallies.len();
    let mut assessed = vec![Assessment { rfm: Rfm::default(), stage: Stage::Introduction }; customers];
    let chunk = customers.div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        for ((out, tallies), registered) in
            assessed.chunks_mut(chunk).zip(tallies.chunks(chunk)).zip(registered_day.chunks(chunk))
        {
            scope.spawn(move || {
                for ((out, tally), &registered) in out.iter_mut().zip(tallies).zip(registered) {
                    *out = assess(&tally.activity(registered), i64::from(today), rules);
                }
            });
        }
    });
    let (rfm, stage) = assessed.into_iter().map(|a| (a.rfm, a.stage)).unzip();
    Ok(Rebuilt { tallies, rfm, stage })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

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
