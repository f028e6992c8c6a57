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

mod scatter;

use std::{
    fmt,
    mem::MaybeUninit,
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
};

use scatter::{PARTITION, Scattered};

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

/// Rows a thread takes at a time while scattering: threads take the next rows as they finish
/// theirs, so a thread slowed down by the rest of the machine does less of the work.
const ROWS_PER_TAKE: usize = 1 << 20;

/// Partitions a thread takes at a time while adding up: 2 MiB of tallies, a huge page, so the
/// threads do not fault in the same huge page of the outputs at once (each would zero its own
/// 2 MiB, and one of them is thrown away).
const PARTITIONS_PER_TAKE: usize = (2 << 20) / (PARTITION * size_of::<Tally>());

/// Each customer's tally of the orders on or after `since`, over `threads` threads.
///
/// A tally per customer is far larger than the CPU's caches (160 MB for 10M customers), and the
/// orders come in no particular customer order, so adding them up directly would miss the cache
/// on nearly every order. Instead the threads first scatter the window's rows into partitions of
/// customers ([`scatter`]), and then each partition is added up with its tallies in cache.
pub fn tally(
    orders: OrderColumns<'_>,
    customers: usize,
    since: u16,
    threads: usize,
) -> Result<Vec<Tally>, RebuildError> {
    let mut tallies = memory::filled(customers, Tally::default());
    let partitions = tallies.chunks_mut(PARTITION).collect();
    let mut scatters = Vec::new();
    tally_partitions(orders, customers, since, threads, &mut scatters, partitions, |tallies, out: &mut [Tally]| {
        out.copy_from_slice(tallies);
    })?;
    Ok(tallies)
}

/// Adds up the orders on or after `since` for each partition of customers (partition `p` holds
/// customers `p * PARTITION..`, and `partitions[p]` is what `then` needs besides), and calls
/// `then` on each partition's tallies while they are still in cache. When this returns `Ok`,
/// `then` has been called exactly once for every partition. The threads scatter into
/// `scatters` (one each, added when missing), which keep their pools for the next call.
fn tally_partitions<W: Send>(
    orders: OrderColumns<'_>,
    customers: usize,
    since: u16,
    threads: usize,
    scatters: &mut Vec<Scattered>,
    partitions: Vec<W>,
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
    let taken = AtomicUsize::new(0);
    if scatters.len() < threads {
        scatters.resize_with(threads, Scattered::default);
    }
    let scatters = &mut scatters[..threads];
    let scattered: Vec<Result<(), RebuildError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = scatters
            .iter_mut()
            .map(|scattered| {
                let taken = &taken;
                scope.spawn(move || {
                    scattered.reset(count, rows);
                    loop {
                        let start = taken.fetch_add(ROWS_PER_TAKE, Ordering::Relaxed);
                        if start >= rows {
                            return Ok(());
                        }
                        scattered.add(orders, customers, since, start..(start + ROWS_PER_TAKE).min(rows))?;
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    });
    // Each thread stops at its first unknown customer and takes rows in ascending order, so the
    // lowest row reported is the table's first.
    let first_error =
        scattered.iter().filter_map(|scattered| scattered.as_ref().err()).min_by_key(|error| match error {
            RebuildError::UnknownCustomer { row, .. } => *row,
            RebuildError::Lengths { .. } => 0,
        });
    if let Some(error) = first_error {
        return Err(error.clone());
    }
    let scattered: &[Scattered] = scatters;

    let work = Mutex::new(partitions.into_iter().enumerate());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut tallies = vec![Tally::default(); PARTITION];
                loop {
                    let taken: Vec<_> = work
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .by_ref()
                        .take(PARTITIONS_PER_TAKE)
                        .collect();
                    if taken.is_empty() {
                        return;
                    }
                    for (partition, work) in taken {
                        let tallies = &mut tallies[..(customers - partition * PARTITION).min(PARTITION)];
                        add_up(scattered, partition, tallies);
                        then(tallies, work);
                    }
                }
            });
        }
    });
    Ok(())
}

/// Partition `partition`'s tallies, from every thread's share of its orders.
fn add_up(scattered: &[Scattered], partition: usize, tallies: &mut [Tally]) {
    tallies.fill(Tally::default());
    for block in scattered.iter().flat_map(|scattered| scattered.entries(partition)) {
        for (at, line) in block.chunks(ENTRIES_PER_LINE).enumerate() {
            prefetch(block.as_ptr().wrapping_add(at * ENTRIES_PER_LINE + PREFETCH_AHEAD));
            for &entry in line {
                let (customer, day, amount) = scatter::unpack(entry);
                if let Some(tally) = tallies.get_mut(customer) {
                    tally.add_order(day, amount);
                }
            }
        }
    }
}

/// Scattered entries to a cache line.
const ENTRIES_PER_LINE: usize = 64 / size_of::<u64>();

/// How far ahead of the entry being added up the next are asked for (2 KiB): a partition's
/// entries are read block by block, 32 KiB from here and there in the pool, faster than the
/// hardware's own prefetching brings them in (5% less CPU time per rebuild when measured; 4 KiB
/// ahead did no better).
const PREFETCH_AHEAD: usize = 256;

/// Asks for the cache line at `at` to be brought into the cache (on x86-64; elsewhere nothing).
fn prefetch<T>(at: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing the program sees and never faults, so any
    // address will do (`at` may point past the block, even past the pool). SSE is part of
    // x86-64.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(at.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// One partition's share of the rebuild's outputs, not written yet, and its customers'
/// registration days.
struct Unscored<'a> {
    tallies: &'a mut [MaybeUninit<Tally>],
    rfm: &'a mut [MaybeUninit<Rfm>],
    stage: &'a mut [MaybeUninit<Stage>],
    registered: &'a [u16],
}

/// Scores every customer on `today`: `registered_day[c]` is customer `c`'s registration day, and
/// `orders` their paid orders (any order; those before the window are left out). A one-off
/// [`Rebuilder::rebuild`]: a process that rebuilds again should keep a [`Rebuilder`].
pub fn rebuild(
    orders: OrderColumns<'_>,
    registered_day: &[u16],
    today: u16,
    rules: &ScoringRules,
    threads: usize,
) -> Result<Rebuilt, RebuildError> {
    let mut rebuilder = Rebuilder::default();
    rebuilder.rebuild(orders, registered_day, today, rules, threads)?;
    Ok(rebuilder.rebuilt)
}

/// Rebuilds every customer's scores again and again (the nightly pass in a long-lived process,
/// the benchmark's repeated runs), keeping its buffers between rebuilds: the scatter's pools
/// (8 bytes per order of the window, plus a partly filled 32 KiB block per partition and
/// thread) and the outputs (20 bytes per customer), which stay in memory in between. Fresh
/// buffers would be faulted in and zeroed by the kernel on every rebuild, a third of a
/// rebuild's time when measured.
#[derive(Default)]
pub struct Rebuilder {
    scatters: Vec<Scattered>,
    rebuilt: Rebuilt,
}

impl Rebuilder {
    /// Scores every customer on `today`, as [`rebuild`] does, into this rebuilder's outputs
    /// (the previous rebuild's are overwritten, and emptied when this one fails).
    ///
    /// Each partition of customers is scored as soon as its tallies are added up, while they
    /// are in cache, and written out by the thread that scored it (the outputs are not filled
    /// beforehand: that took a single thread through 200 MB).
    pub fn rebuild(
        &mut self,
        orders: OrderColumns<'_>,
        registered_day: &[u16],
        today: u16,
        rules: &ScoringRules,
        threads: usize,
    ) -> Result<&Rebuilt, RebuildError> {
        let customers = registered_day.len();
        let Rebuilt { tallies, rfm, stage } = &mut self.rebuilt;
        make_room(tallies, customers);
        make_room(rfm, customers);
        make_room(stage, customers);
        let partitions = tallies.spare_capacity_mut()[..customers]
            .chunks_mut(PARTITION)
            .zip(rfm.spare_capacity_mut()[..customers].chunks_mut(PARTITION))
            .zip(stage.spare_capacity_mut()[..customers].chunks_mut(PARTITION))
            .zip(registered_day.chunks(PARTITION))
            .map(|(((tallies, rfm), stage), registered)| Unscored { tallies, rfm, stage, registered })
            .collect();
        let score = |tallies: &[Tally], out: Unscored<'_>| {
            let outputs = out.rfm.iter_mut().zip(out.stage).zip(out.registered);
            for (tally, ((rfm, stage), &registered)) in tallies.iter().zip(outputs) {
                let assessed = assess(&tally.activity(registered), i64::from(today), rules);
                rfm.write(assessed.rfm);
                stage.write(assessed.stage);
            }
            write_tallies(out.tallies, tallies);
        };
        let since = window_start(today);
        tally_partitions(orders, customers, since, threads, &mut self.scatters, partitions, score)?;
        // SAFETY: `tally_partitions` returned Ok, so `score` ran on every partition; the
        // partitions' chunks cover the first `customers` elements of each vector's capacity
        // (`make_room` left each empty with at least that capacity), and `score` writes every
        // element of its chunks (the four chunks of a partition have the same length).
        unsafe {
            tallies.set_len(customers);
            rfm.set_len(customers);
            stage.set_len(customers);
        }
        Ok(&self.rebuilt)
    }

    /// The last rebuild's scores (empty before the first, and after one that failed).
    pub fn rebuilt(&self) -> &Rebuilt {
        &self.rebuilt
    }
}

/// Writes a partition's tallies to the rebuild's output (of the same length): past the caches
/// on x86-64, as the output is far larger than the caches and not read again by the rebuild,
/// so an ordinary store would first read each line from memory.
fn write_tallies(out: &mut [MaybeUninit<Tally>], tallies: &[Tally]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_sfence, _mm_stream_si128};
        const _: () = assert!(size_of::<Tally>() == size_of::<__m128i>(), "a tally is 16 bytes, no padding");
        if out.as_ptr().cast::<__m128i>().is_aligned() {
            for (out, tally) in out.iter_mut().zip(tallies) {
                // SAFETY: a tally is 16 bytes of integers without padding (asserted above), so
                // it can be read as one unaligned vector; `out` is a mutably borrowed slot of
                // 16 bytes, aligned to 16 (`out` starts so, checked above, and its slots are 16
                // bytes long). SSE2 is part of x86-64.
                unsafe {
                    let tally = _mm_loadu_si128(std::ptr::from_ref(tally).cast::<__m128i>());
                    _mm_stream_si128(out.as_mut_ptr().cast::<__m128i>(), tally);
                }
            }
            // The streamed tallies are read after the threads are joined, and the join orders
            // ordinary stores, not streaming ones.
            // SAFETY: SSE is part of x86-64, and a fence has no other requirement.
            unsafe { _mm_sfence() };
            return;
        }
    }
    for (out, tally) in out.iter_mut().zip(tallies) {
        out.write(*tally);
    }
}

/// Empties `output` and gives it room for `len` values, keeping its allocation when it is
/// large enough.
fn make_room<T>(output: &mut Vec<T>, len: usize) {
    output.clear();
    if output.capacity() < len {
        *output = Vec::new(); // the old allocation goes before the new one is faulted in
        *output = memory::reserved(len);
    }
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
    fn the_first_unknown_customer_is_reported_whichever_thread_meets_it() {
        let rows = 2 * ROWS_PER_TAKE + 10;
        let mut customer = vec![0u32; rows];
        customer[2 * ROWS_PER_TAKE + 1] = 8;
        customer[ROWS_PER_TAKE + 3] = 9;
        customer[ROWS_PER_TAKE + 5] = 7;
        let (day, amount) = (vec![10u16; rows], vec![1u32; rows]);
        let orders = OrderColumns { customer: &customer, day: &day, amount: &amount };
        for threads in [1, 2, 3] {
            let refused = tally(orders, 1, 0, threads);
            assert_eq!(
                refused,
                Err(RebuildError::UnknownCustomer { row: ROWS_PER_TAKE + 3, customer: 9 }),
                "{threads}"
            );
        }
    }

    #[test]
    fn many_partitions_add_up_like_one_pass() {
        let customers = 200_000; // a dozen partitions, the last one partial
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

    /// `count` orders over `customers` customers, days `0..1_000`, from a fixed seed.
    fn random_rows(seed: u64, count: usize, customers: u32) -> Vec<(u32, u16, u32)> {
        let mut state = seed;
        let mut next = || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            state >> 33
        };
        (0..count)
            .map(|_| ((next() % u64::from(customers)) as u32, (next() % 1_000) as u16, next() as u32 % 100_000))
            .collect()
    }

    #[test]
    fn a_rebuilder_reused_across_sizes_gives_what_a_fresh_rebuild_gives() {
        let rules = ScoringRules::default();
        let mut rebuilder = Rebuilder::default();
        // Large, then small (the kept pools and outputs hold the large run's values), then a
        // failure, then larger still (the pools grow), with the thread count changing.
        let runs: [(u64, usize, u32, usize); 5] =
            [(1, 60_000, 70_000, 2), (2, 500, 30, 3), (3, 0, 5, 1), (4, 90_000, 200_000, 2), (5, 2_000, 70_000, 1)];
        for (seed, count, customers, threads) in runs {
            let rows = random_rows(seed, count, customers);
            let registered: Vec<u16> = (0..customers).map(|c| (c % 700) as u16).collect();
            let (customer, day, amount) = columns(&rows);
            let orders = OrderColumns { customer: &customer, day: &day, amount: &amount };
            let fresh = rebuild(orders, &registered, 900, &rules, threads).unwrap();
            let reused = rebuilder.rebuild(orders, &registered, 900, &rules, threads).unwrap();
            assert_eq!(*reused, fresh, "seed {seed}");

            let bad = [customers];
            let refused = rebuilder.rebuild(
                OrderColumns { customer: &bad, day: &[899], amount: &[1] },
                &registered,
                900,
                &rules,
                threads,
            );
            assert_eq!(refused, Err(RebuildError::UnknownCustomer { row: 0, customer: customers }));
            assert_eq!(*rebuilder.rebuilt(), Rebuilt::default(), "a failed rebuild leaves no scores");
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
