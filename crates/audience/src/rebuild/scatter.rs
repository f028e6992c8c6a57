//! The radix scatter of the rebuild: a thread's orders of the scoring window grouped by
//! partition of customers, in one pass over the columns.
//!
//! Each partition's entries go to a chain of fixed-size blocks taken from one pool as they
//! fill, so no counting pass is needed to size the partitions beforehand (that pass read the
//! customer and day columns a second time). Entries are staged four cache lines per partition
//! and each full run is written to the pool in one go, bypassing the caches. Which rows are in the
//! window is worked out 64 rows at a time as a bit mask, and only those rows are visited: a
//! branch per row would be mispredicted on nearly every other row (in or out of the window is
//! as good as random), and placing every row somewhere cost more than skipping.

use std::ops::Range;

use super::{OrderColumns, RebuildError, prefetch};
use crate::memory;

/// Customers per partition: 16,384 customers' tallies (256 KiB) are added up together, in the
/// core's L2 cache (512 KiB on the benchmark's EPYC; 65,536 customers, 1 MiB, spilled to L3
/// and were measured slower, 8,192 slower too, with more partitions to scatter to).
pub(super) const PARTITION_SHIFT: u32 = 14;
/// Customers per partition (see [`PARTITION_SHIFT`]).
pub(super) const PARTITION: usize = 1 << PARTITION_SHIFT;
/// A customer's place in its partition, as packed into the low 16 bits of an entry.
const IN_PARTITION: u32 = (1 << PARTITION_SHIFT) - 1;
const _: () = assert!(PARTITION_SHIFT <= 16, "an entry keeps 16 bits of the customer");

/// Entries per block (32 KiB): large enough that moving to a new block is rare, small enough
/// that the last, partly filled block of each partition wastes little.
const BLOCK: usize = 4096;

/// One order of the window as scattered: the customer's place in its partition (16 bits), the
/// day (16 bits) and the amount (32 bits).
pub(super) fn entry(customer: u32, day: u16, amount: u32) -> u64 {
    u64::from(customer & IN_PARTITION) | u64::from(day) << 16 | u64::from(amount) << 32
}

/// The parts of an [`entry`]: the customer's place in its partition, the day and the amount.
pub(super) fn unpack(entry: u64) -> (usize, u16, u32) {
    ((entry as u32 & IN_PARTITION) as usize, (entry >> 16) as u16, (entry >> 32) as u32)
}

/// Entries staged per partition before they go to the pool: four cache lines (256 bytes; 611
/// partitions of 10M customers stage 156 KiB, in L2). Whether a partition's run is full is a
/// branch per entry that follows no pattern, mispredicted once per run: one cache line to a
/// run took the rebuild 8% more CPU time than two, and two 3% more than four.
const RUN: usize = 32;

/// A run of one partition's entries, staged before it goes to the pool in one write.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Run([u64; RUN]);

/// One thread's scattered orders. Block `b` is `pool[base + b * BLOCK..][..BLOCK]`, and
/// partition `p` starts with block `p`.
///
/// A scatter is [`reset`](Scattered::reset) before each rebuild and keeps its pool: the pool's
/// pages are then already faulted in, and the kernel does not zero hundreds of megabytes again.
/// Nothing in the pool is read before this rebuild wrote it, so it is not cleared.
#[derive(Default)]
pub(super) struct Scattered {
    pool: Vec<u64>,
    /// Where block 0 starts in the pool: the first entry on a cache-line boundary.
    base: usize,
    /// Each partition's blocks, in the order they were filled.
    blocks: Vec<Vec<usize>>,
    /// Each partition's next entry, counted from `base` (its last block is full when this is
    /// a multiple of [`BLOCK`]).
    next: Vec<usize>,
    /// Each partition's run being filled: its entries from the last multiple of [`RUN`] up to
    /// `next`.
    staged: Vec<Run>,
    /// Blocks taken so far.
    taken: usize,
}

impl Scattered {
    /// An empty scatter into `partitions` partitions, with room for `rows` entries.
    #[cfg(test)]
    pub(super) fn new(partitions: usize, rows: usize) -> Scattered {
        let mut scattered = Scattered::default();
        scattered.reset(partitions, rows);
        scattered
    }

    /// Empties the scatter for `partitions` partitions and room for `rows` entries, keeping the
    /// pool when it is large enough.
    pub(super) fn reset(&mut self, partitions: usize, rows: usize) {
        // Every partition's last block may be partly filled; a run more, to start the blocks
        // on a cache-line boundary.
        let words = (rows.div_ceil(BLOCK) + partitions) * BLOCK + RUN;
        if self.pool.len() < words {
            self.pool = Vec::new(); // the old pool goes before the new one is faulted in
            self.pool = memory::zeroed_words(words);
        }
        self.base = self.pool.as_ptr().align_offset(align_of::<Run>());
        self.blocks.resize_with(partitions, Vec::new);
        for (partition, blocks) in self.blocks.iter_mut().enumerate() {
            blocks.clear();
            blocks.push(partition);
        }
        self.next.clear();
        self.next.extend((0..partitions).map(|block| block * BLOCK));
        self.staged.clear();
        self.staged.resize(partitions, Run([0; RUN]));
        self.taken = partitions;
    }

    /// Partition `partition`'s entries, block by block.
    pub(super) fn entries(&self, partition: usize) -> impl Iterator<Item = &[u64]> {
        let blocks = &self.blocks[partition];
        let last = blocks.len() - 1;
        blocks.iter().enumerate().map(move |(at, &block)| {
            let start = block * BLOCK;
            let end = if at == last { self.next[partition] } else { start + BLOCK };
            &self.pool[self.base + start..self.base + end]
        })
    }

    /// Adds the rows `rows` of `orders` on or after `since`; fails on the first such row that
    /// names a customer outside `0..customers`.
    pub(super) fn add(
        &mut self,
        orders: OrderColumns<'_>,
        customers: usize,
        since: u16,
        rows: Range<usize>,
    ) -> Result<(), RebuildError> {
        let added = self.stage(orders, customers, since, rows);
        for (&at, run) in self.next.iter().zip(&self.staged) {
            let staged = at % RUN;
            self.pool[self.base + at - staged..][..staged].copy_from_slice(&run.0[..staged]);
        }
        #[cfg(target_arch = "x86_64")]
        // The streamed runs are seen by other threads only after they are joined, and the
        // join's synchronisation orders ordinary stores, not streaming ones.
        // SAFETY: SSE is part of x86-64, and a fence has no other requirement.
        unsafe {
            std::arch::x86_64::_mm_sfence()
        };
        added
    }

    /// Stages each row in its partition's run, and writes each run that fills to the pool.
    fn stage(
        &mut self,
        orders: OrderColumns<'_>,
        customers: usize,
        since: u16,
        rows: Range<usize>,
    ) -> Result<(), RebuildError> {
        let first = rows.start;
        let (customer, amount) = (&orders.customer[rows.clone()], &orders.amount[rows.clone()]);
        let day = &orders.day[rows];
        let exact = day.chunks_exact(ROWS_PER_MASK);
        let rest = exact.remainder();
        let masks = exact.map(|days| in_window(days, since)).chain([in_window(rest, since)]);
        for (chunk, mut mask) in masks.enumerate() {
            // The 64 rows' customers and amounts 2 KiB ahead (4 cache lines each), asked for
            // before they are needed: about 2% less CPU time per rebuild when measured.
            let ahead = chunk * ROWS_PER_MASK + COLUMN_PREFETCH_AHEAD;
            for line in (0..ROWS_PER_MASK).step_by(16) {
                prefetch(customer.as_ptr().wrapping_add(ahead + line));
                prefetch(amount.as_ptr().wrapping_add(ahead + line));
            }
            while mask != 0 {
                let offset = chunk * ROWS_PER_MASK + mask.trailing_zeros() as usize;
                mask &= mask - 1;
                let customer = customer[offset];
                if customer as usize >= customers {
                    return Err(RebuildError::UnknownCustomer { row: first + offset, customer });
                }
                let partition = (customer >> PARTITION_SHIFT) as usize;
                let at = self.next[partition];
                self.staged[partition].0[at % RUN] = entry(customer, day[offset], amount[offset]);
                let mut at = at + 1;
                if at.is_multiple_of(RUN) {
                    stream(&mut self.pool[self.base + at - RUN..][..RUN], &self.staged[partition]);
                    if at.is_multiple_of(BLOCK) {
                        self.blocks[partition].push(self.taken);
                        at = self.taken * BLOCK;
                        self.taken += 1;
                    }
                }
                self.next[partition] = at;
            }
        }
        Ok(())
    }
}

/// Rows ahead of the mask being placed whose customers and amounts are asked for.
const COLUMN_PREFETCH_AHEAD: usize = 512;

/// Rows whose days are compared at once: a bit each in a mask.
const ROWS_PER_MASK: usize = 64;

/// Bit `i` set when `days[i]` is on or after `since`.
fn in_window(days: &[u16], since: u16) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if let Ok(days) = <&[u16; ROWS_PER_MASK]>::try_from(days) {
        // SAFETY: SSE2, the one feature it enables, is part of x86-64.
        return unsafe { in_window_sse2(days, since) };
    }
    days.iter().enumerate().fold(0, |mask, (i, &day)| mask | u64::from(day >= since) << i)
}

/// [`in_window`] for a whole mask's rows, 8 days to a compare and 16 to a `movemask` (the
/// compiler turned the portable version into shifts of each row's bit into place, a tenth of
/// the scatter).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn in_window_sse2(days: &[u16; ROWS_PER_MASK], since: u16) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpgt_epi16, _mm_loadu_si128, _mm_movemask_epi8, _mm_packs_epi16, _mm_set1_epi16, _mm_xor_si128,
    };
    // SSE2 compares signed 16-bit lanes: flipping the top bit of both sides orders unsigned
    // values as signed ones.
    let flip = _mm_set1_epi16(i16::MIN);
    let since = _mm_set1_epi16(since.cast_signed() ^ i16::MIN);
    let mut before = 0u64;
    for (sixteen, days) in days.chunks_exact(16).enumerate() {
        let [low, high] = [0, 8].map(|at| {
            // SAFETY: `days` holds 16 `u16`, so the 16 bytes from `at` are inside it, and an
            // unaligned load has no other requirement.
            let eight = unsafe { _mm_loadu_si128(days[at..].as_ptr().cast::<__m128i>()) };
            _mm_cmpgt_epi16(since, _mm_xor_si128(eight, flip))
        });
        // Each lane is all ones or zeros, so packing keeps it, a byte a row.
        let bits = _mm_movemask_epi8(_mm_packs_epi16(low, high)) as u32;
        before |= u64::from(bits) << (16 * sixteen);
    }
    !before
}

/// Writes a staged run to its place in the pool past the caches (on x86-64): the pool is far
/// larger than the caches and read only after the whole scatter, so an ordinary store would
/// first read each cache line from memory and then push the columns being read out of the cache.
fn stream(to: &mut [u64], run: &Run) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_stream_si128};
        assert!(to.len() == RUN && to.as_ptr().cast::<Run>().is_aligned(), "a whole, aligned run");
        let to = to.as_mut_ptr().cast::<__m128i>();
        let from = run.0.as_ptr().cast::<__m128i>();
        for part in 0..RUN / 2 {
            // SAFETY: `to` is a mutably borrowed run of `RUN` words, aligned as a `Run` (checked
            // above), and `from` is a `Run`: each 16-byte part of either is inside it and
            // aligned to 16 bytes. SSE2 is part of x86-64.
            unsafe { _mm_stream_si128(to.add(part), from.add(part).read()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    to.copy_from_slice(&run.0);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Each partition's entries as the scatter holds them, block after block.
    fn grouped(scattered: &Scattered, partitions: usize) -> Vec<Vec<u64>> {
        (0..partitions).map(|p| scattered.entries(p).flatten().copied().collect()).collect()
    }

    proptest! {
        #[test]
        fn each_partition_keeps_its_rows_of_the_window_in_order(
            rows in prop::collection::vec((0u32..3 * PARTITION as u32, 0u16..4, any::<u32>()), 0..12_000),
            cuts in prop::collection::vec(0usize..12_000, 0..4),
            since in 0u16..5,
            crowd in 0u32..3,
        ) {
            // Most rows in one partition, so its blocks fill and chain.
            let customer: Vec<u32> = rows.iter().map(|r| if r.2 % 4 == 0 { r.0 } else { crowd * PARTITION as u32 + r.0 % 7 }).collect();
            let day: Vec<u16> = rows.iter().map(|r| r.1).collect();
            let amount: Vec<u32> = rows.iter().map(|r| r.2).collect();
            let orders = OrderColumns { customer: &customer, day: &day, amount: &amount };
            let customers = 3 * PARTITION;
            let mut bounds: Vec<usize> = cuts.iter().map(|&cut| cut.min(rows.len())).collect();
            bounds.extend([0, rows.len()]);
            bounds.sort_unstable();
            let mut scattered = Scattered::new(3, rows.len());
            for range in bounds.windows(2) {
                scattered.add(orders, customers, since, range[0]..range[1]).unwrap();
            }
            let mut expected = vec![Vec::new(); 3];
            for ((&customer, &day), &amount) in customer.iter().zip(&day).zip(&amount).filter(|r| *r.0.1 >= since) {
                expected[customer as usize / PARTITION].push(entry(customer, day, amount));
            }
            prop_assert_eq!(grouped(&scattered, 3), expected);
        }
    }

    proptest! {
        #[test]
        fn a_mask_has_the_bits_of_the_days_in_the_window(
            days in prop::collection::vec(prop_oneof![any::<u16>(), 0u16..4, (u16::MAX - 3)..=u16::MAX], 0..=ROWS_PER_MASK),
            since in prop_oneof![any::<u16>(), 0u16..4, (u16::MAX - 3)..=u16::MAX, 32_766u16..32_770],
        ) {
            let expected = days.iter().enumerate().filter(|(_, day)| **day >= since).fold(0u64, |mask, (i, _)| mask | 1 << i);
            prop_assert_eq!(in_window(&days, since), expected);
        }
    }

    #[test]
    fn entries_unpack_to_what_was_packed() {
        for (customer, day, amount) in
            [(0, 0, 0), (PARTITION as u32 - 1, u16::MAX, u32::MAX), (PARTITION as u32 + 5, 7, 1)]
        {
            assert_eq!(unpack(entry(customer, day, amount)), ((customer & IN_PARTITION) as usize, day, amount));
        }
    }

    #[test]
    fn unknown_customers_outside_the_window_are_ignored() {
        let orders = OrderColumns { customer: &[9, 0, 7], day: &[1, 5, 5], amount: &[1, 2, 3] };
        let mut scattered = Scattered::new(1, 3);
        let refused = scattered.add(orders, 2, 5, 0..3);
        assert_eq!(refused, Err(RebuildError::UnknownCustomer { row: 2, customer: 7 }));
        assert_eq!(grouped(&scattered, 1), [vec![entry(0, 5, 2)]]);
    }
}
