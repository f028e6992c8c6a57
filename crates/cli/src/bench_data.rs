//! `quanyu bench-data`: the deterministic synthetic population of the customer-data benchmarks
//! (`bench/audience`, `bench/rfm`), written once and read by Quanyu and by the peers alike.
//!
//! # Format
//!
//! A directory of headerless little-endian column files, each named `<column>.<type>` with type
//! `u8`, `u16`, `u32` or `u64` (numpy: `np.fromfile(path, dtype="<u4")`), and `manifest.json`
//! giving the sizes, the seed, the scoring day and the names behind every code.
//!
//! Members (one row per member ordinal `0..members`):
//! - `member_tier.u8`: index into `manifest.tiers`;
//! - `member_home_store.u16`: index into `manifest.stores`; `member_region.u8`: index into
//!   `manifest.regions` (a store's region);
//! - `member_points.u32`, `member_spend_365d.u32` (分), `member_orders_365d.u16`;
//! - `member_r.u8`, `member_f.u8`, `member_m.u8` (RFM 1–5, `r` 0 without an order in the window)
//!   and `member_stage.u8` (index into `manifest.stages`), scored by the product's own rules
//!   ([`quanyu_audience::assess`]) from each member's generated activity;
//! - `member_last_order_days.u16`: days since the last order in the window, 65535 when none.
//!
//! Tags (tag `t` is named `t{t}`; tag 0 is the most popular): `tag_offsets.u64` (`tags + 1`
//! entries) and `tag_members.u32`: tag `t`'s members, ascending, are
//! `tag_members[tag_offsets[t]..tag_offsets[t+1]]`. A member carries tag `t` with probability
//! `min(0.6, c / (t + 1))` (Zipf with exponent 1, capped), independently, with `c` chosen so a
//! member carries `tags_per_member` tags on average.
//!
//! Orders (one row per paid order, in no particular order): `order_customer.u32` (a customer
//! ordinal `0..customers`), `order_day.u16` (days since 1970-01-01), `order_amount.u32` (分) and
//! `order_category.u8`; and per customer `customer_registered_day.u16`. One customer in ten never
//! orders; the others' activity is skewed (a few order a lot) and each orders only between their
//! registration and the day they stopped, so every lifecycle stage occurs.
//!
//! Every random draw comes from SplitMix64 streams keyed by the seed and a fixed block of rows,
//! so the same arguments give byte-identical files whatever the number of threads.

use std::{
    fs::File,
    io::{BufWriter, Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use quanyu_audience::{Activity, ScoringRules, Stage, assess, lifecycle::WINDOW_DAYS};
use serde::{Deserialize, Serialize};

use crate::{args::BenchDataArgs, rng::Rng};

/// The scoring day of every generated population: 2026-12-01.
pub const TODAY: u16 = 20_788;
/// `member_last_order_days` of a member without an order in the window.
pub const NO_LAST_ORDER: u16 = u16::MAX;
/// The highest probability of carrying one tag.
const TAG_CAP: f64 = 0.6;
/// Rows per random stream: the unit of parallel work.
const BLOCK: usize = 1 << 20;
/// Days of history before the scoring day.
const HISTORY_DAYS: i64 = 3 * 365;
const TIERS: [&str; 4] = ["normal", "silver", "gold", "platinum"];
const TIER_WEIGHTS: [f64; 4] = [0.6, 0.25, 0.11, 0.04];
const REGIONS: [&str; 3] = ["east", "north", "south"];
const CATEGORIES: u8 = 24;

/// What a generated directory holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub seed: u64,
    pub members: u64,
    pub tags: u64,
    pub tags_per_member: f64,
    /// The `c` of the tag popularity `min(0.6, c / (t + 1))`.
    pub tag_zipf_c: f64,
    pub member_tag_rows: u64,
    pub customers: u64,
    pub order_lines: u64,
    /// The scoring day, in days since 1970-01-01.
    pub today: u16,
    pub tiers: Vec<String>,
    pub regions: Vec<String>,
    pub stores: Vec<String>,
    pub stages: Vec<String>,
    /// Every column file with its element count.
    pub files: Vec<ColumnFile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnFile {
    pub name: String,
    /// numpy's name of the element type (`<u4`).
    pub dtype: String,
    pub len: u64,
}

impl Manifest {
    pub fn read(dir: &Path) -> anyhow::Result<Manifest> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

/// An element type of a column file.
pub trait Column: Copy + Default + Send + Sync + 'static {
    const SUFFIX: &'static str;
    const DTYPE: &'static str;
    const SIZE: usize;
    fn put(self, out: &mut Vec<u8>);
    fn take(bytes: &[u8]) -> Self;
}

macro_rules! column {
    ($ty:ty, $suffix:literal, $dtype:literal) => {
        impl Column for $ty {
            const SUFFIX: &'static str = $suffix;
            const DTYPE: &'static str = $dtype;
            const SIZE: usize = std::mem::size_of::<$ty>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn take(bytes: &[u8]) -> Self {
                let mut raw = [0; std::mem::size_of::<$ty>()];
                raw.copy_from_slice(bytes);
                <$ty>::from_le_bytes(raw)
            }
        }
    };
}
column!(u8, "u8", "|u1");
column!(u16, "u16", "<u2");
column!(u32, "u32", "<u4");
column!(u64, "u64", "<u8");

/// The path of column `name` of element type `T` in `dir`.
pub fn column_path<T: Column>(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.{}", T::SUFFIX))
}

/// Reads the whole column `name`.
pub fn read_column<T: Column>(dir: &Path, name: &str) -> anyhow::Result<Vec<T>> {
    let path = column_path::<T>(dir, name);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() % T::SIZE != 0 {
        bail!("{} is not a whole number of {}-byte values", path.display(), T::SIZE);
    }
    Ok(bytes.chunks_exact(T::SIZE).map(T::take).collect())
}

/// Reads `len` values of column `name` from value `start` on.
pub fn read_column_range<T: Column>(
    file: &mut File,
    start: u64,
    len: usize,
    buffer: &mut Vec<u8>,
) -> anyhow::Result<Vec<T>> {
    buffer.resize(len * T::SIZE, 0);
    file.seek(SeekFrom::Start(start * T::SIZE as u64))?;
    file.read_exact(buffer)?;
    Ok(buffer.chunks_exact(T::SIZE).map(T::take).collect())
}

/// A column file being written.
struct ColumnWriter {
    name: String,
    dtype: &'static str,
    size: usize,
    out: BufWriter<File>,
    bytes: u64,
}

impl ColumnWriter {
    fn create<T: Column>(dir: &Path, name: &str) -> anyhow::Result<ColumnWriter> {
        let path = column_path::<T>(dir, name);
        let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(ColumnWriter {
            name: format!("{name}.{}", T::SUFFIX),
            dtype: T::DTYPE,
            size: T::SIZE,
            out: BufWriter::with_capacity(1 << 20, file),
            bytes: 0,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.out.write_all(bytes).with_context(|| format!("writing {}", self.name))?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<ColumnFile> {
        self.out.flush().with_context(|| format!("writing {}", self.name))?;
        Ok(ColumnFile { name: self.name, dtype: self.dtype.to_owned(), len: self.bytes / self.size as u64 })
    }
}

/// A random stream for row block `block` of stream `stream`.
fn stream_rng(seed: u64, stream: u64, block: u64) -> Rng {
    let mut mixer =
        Rng::new(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ block.wrapping_mul(0xD1B5_4A32_D192_ED03));
    Rng::new(mixer.next_u64())
}

/// Runs `make(block)` for every block index in `0..blocks`, `threads` at a time, and hands the
/// results to `sink` in block order.
fn in_blocks<T: Send>(
    blocks: usize,
    threads: usize,
    make: impl Fn(usize) -> T + Sync,
    mut sink: impl FnMut(T) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let threads = threads.max(1);
    let mut next = 0;
    while next < blocks {
        let batch: Vec<usize> = (next..blocks.min(next + threads)).collect();
        next += batch.len();
        let results = std::thread::scope(|scope| {
            let make = &make;
            let workers: Vec<_> = batch.iter().map(|&block| scope.spawn(move || make(block))).collect();
            workers.into_iter().map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect::<Vec<_>>()
        });
        for result in results {
            sink(result)?;
        }
    }
    Ok(())
}

/// `c` such that `Σ min(cap, c / (t + 1))` over the tags is `per_member`.
pub fn zipf_c(tags: u64, per_member: f64) -> anyhow::Result<f64> {
    if !(per_member > 0.0 && per_member < TAG_CAP * tags as f64) {
        bail!("--tags-per-member must be above 0 and below {} for {tags} tags", TAG_CAP * tags as f64);
    }
    let total = |c: f64| (1..=tags).map(|rank| (c / rank as f64).min(TAG_CAP)).sum::<f64>();
    let (mut low, mut high) = (0.0, TAG_CAP * tags as f64);
    for _ in 0..100 {
        let mid = (low + high) / 2.0;
        if total(mid) < per_member { low = mid } else { high = mid }
    }
    Ok((low + high) / 2.0)
}

/// The probability of carrying tag `tag`.
pub fn tag_probability(c: f64, tag: u64) -> f64 {
    (c / (tag + 1) as f64).min(TAG_CAP)
}

/// Tag `tag`'s members, ascending: each of `0..members` independently with probability `p`.
fn tag_members(seed: u64, tag: u64, members: u32, p: f64) -> Vec<u32> {
    let mut rng = stream_rng(seed, 1, tag);
    let mut out = Vec::with_capacity((f64::from(members) * p * 1.05) as usize + 16);
    if p >= 0.05 {
        // Dense: one 32-bit draw per member.
        let threshold = (p * 4_294_967_296.0) as u64;
        let mut member = 0u32;
        while member < members {
            let bits = rng.next_u64();
            for draw in [bits & 0xFFFF_FFFF, bits >> 32] {
                if member < members && draw < threshold {
                    out.push(member);
                }
                member += 1;
            }
        }
    } else {
        // Sparse: jump straight to the next member by a geometric skip.
        let log_miss = (1.0 - p).ln();
        let mut member = 0u64;
        loop {
            let u = 1.0 - rng.unit(); // (0, 1]
            member += (u.ln() / log_miss) as u64;
            if member >= u64::from(members) {
                break;
            }
            out.push(member as u32);
            member += 1;
        }
    }
    out
}

/// One block of member attributes, as the bytes of each column.
struct MemberBlock {
    columns: [Vec<u8>; 11],
}

fn member_block(seed: u64, block: usize, members: usize, stores: usize) -> MemberBlock {
    let mut rng = stream_rng(seed, 2, block as u64);
    let rules = ScoringRules::default();
    let rows = (members - block * BLOCK).min(BLOCK);
    let mut columns: [Vec<u8>; 11] = Default::default();
    for _ in 0..rows {
        let roll = rng.unit();
        let mut tier = 0u8;
        let mut acc = 0.0;
        for (code, weight) in (0u8..).zip(TIER_WEIGHTS) {
            acc += weight;
            tier = code;
            if roll < acc {
                break;
            }
        }
        let store = rng.index(stores);
        let region = (store % REGIONS.len()) as u8;
        let points = (20_000.0 * rng.unit().powi(3)) as u32;
        let registered = i64::from(TODAY) - rng.range(0, HISTORY_DAYS);
        let since_last = ((i64::from(TODAY) - registered) as f64 * rng.unit().powi(2)) as i64;
        let ordered = rng.chance(0.85) && since_last <= WINDOW_DAYS;
        let orders = if ordered { 1 + (20.0 * rng.unit().powi(3)) as i64 } else { 0 };
        let spend = orders * rng.range(3_000, 33_000);
        let activity = Activity {
            registered_day: registered,
            last_order_day: ordered.then(|| i64::from(TODAY) - since_last),
            orders,
            spend,
        };
        let scored = assess(&activity, i64::from(TODAY), &rules);
        let stage = Stage::ALL.iter().position(|s| *s == scored.stage).unwrap_or(0) as u8;
        let last_order_days = if ordered { since_last as u16 } else { NO_LAST_ORDER };
        tier.put(&mut columns[0]);
        (store as u16).put(&mut columns[1]);
        region.put(&mut columns[2]);
        points.put(&mut columns[3]);
        (spend as u32).put(&mut columns[4]);
        (orders as u16).put(&mut columns[5]);
        scored.rfm.r.put(&mut columns[6]);
        scored.rfm.f.put(&mut columns[7]);
        scored.rfm.m.put(&mut columns[8]);
        stage.put(&mut columns[9]);
        last_order_days.put(&mut columns[10]);
    }
    MemberBlock { columns }
}

/// Customer `customer`'s registration day and the last day they order, from its own stream.
fn customer_profile(seed: u64, customer: u64) -> (u16, u16) {
    let mut rng = stream_rng(seed, 3, customer);
    let registered = i64::from(TODAY) - rng.range(0, HISTORY_DAYS);
    // Three in ten still order; the others stopped somewhere since they registered.
    let stopped = if rng.chance(0.3) { i64::from(TODAY) } else { rng.range(registered, i64::from(TODAY)) };
    (registered as u16, stopped as u16)
}

/// The customers who order at all: the first nine tenths of a scrambled ordinal space.
fn ordering_customers(customers: u64) -> u64 {
    (customers * 9).div_ceil(10).max(1)
}

/// A bijection of `0..n` (multiplication by a unit modulo `n`), so busy customers are spread
/// over the ordinals.
fn scramble(x: u64, n: u64) -> u64 {
    let mut unit = 2_654_435_761u64 % n.max(1);
    while n > 1 && gcd(unit, n) != 1 {
        unit += 1;
    }
    ((u128::from(x) * u128::from(unit)) % u128::from(n.max(1))) as u64
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

struct OrderBlock {
    customer: Vec<u8>,
    day: Vec<u8>,
    amount: Vec<u8>,
    category: Vec<u8>,
}

fn order_block(seed: u64, block: usize, lines: usize, customers: u64) -> OrderBlock {
    let mut rng = stream_rng(seed, 4, block as u64);
    let rows = (lines - block * BLOCK).min(BLOCK);
    let ordering = ordering_customers(customers);
    let mut out = OrderBlock {
        customer: Vec::with_capacity(rows * 4),
        day: Vec::with_capacity(rows * 2),
        amount: Vec::with_capacity(rows * 4),
        category: Vec::with_capacity(rows),
    };
    for _ in 0..rows {
        // Activity rank skewed to the front (density ∝ rank^-2/3), then scrambled.
        let rank = ((ordering as f64 * rng.unit().powi(3)) as u64).min(ordering - 1);
        let customer = scramble(rank, customers);
        let (registered, stopped) = customer_profile(seed, customer);
        let day = rng.range(i64::from(registered), i64::from(stopped)) as u16;
        let amount = 500 + (60_000.0 * rng.unit().powi(2)) as u32;
        let category = (f64::from(CATEGORIES) * rng.unit().powi(2)) as u8;
        (customer as u32).put(&mut out.customer);
        day.put(&mut out.day);
        amount.put(&mut out.amount);
        category.put(&mut out.category);
    }
    out
}

/// Writes the population `args` describes into `args.out`; returns the manifest.
pub fn generate(args: &BenchDataArgs) -> anyhow::Result<Manifest> {
    let members = u32::try_from(args.members).context("--members must fit in u32")?;
    if u32::try_from(args.customers).is_err() {
        bail!("--customers must fit in u32");
    }
    if args.stores == 0 || args.stores > usize::from(u16::MAX) {
        bail!("--stores must be 1..=65535");
    }
    if args.order_lines > 0 && args.customers == 0 {
        bail!("--order-lines needs --customers");
    }
    // No tags (an orders-only population) needs no popularity curve.
    let c = if args.tags == 0 { 0.0 } else { zipf_c(args.tags, args.tags_per_member)? };
    let dir = &args.out;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut files = Vec::new();

    // Members.
    let names = [
        "member_tier",
        "member_home_store",
        "member_region",
        "member_points",
        "member_spend_365d",
        "member_orders_365d",
        "member_r",
        "member_f",
        "member_m",
        "member_stage",
        "member_last_order_days",
    ];
    let mut writers = vec![
        ColumnWriter::create::<u8>(dir, names[0])?,
        ColumnWriter::create::<u16>(dir, names[1])?,
        ColumnWriter::create::<u8>(dir, names[2])?,
        ColumnWriter::create::<u32>(dir, names[3])?,
        ColumnWriter::create::<u32>(dir, names[4])?,
        ColumnWriter::create::<u16>(dir, names[5])?,
        ColumnWriter::create::<u8>(dir, names[6])?,
        ColumnWriter::create::<u8>(dir, names[7])?,
        ColumnWriter::create::<u8>(dir, names[8])?,
        ColumnWriter::create::<u8>(dir, names[9])?,
        ColumnWriter::create::<u16>(dir, names[10])?,
    ];
    let member_rows = args.members as usize;
    in_blocks(
        member_rows.div_ceil(BLOCK),
        threads,
        |block| member_block(args.seed, block, member_rows, args.stores),
        |block| {
            for (writer, bytes) in writers.iter_mut().zip(&block.columns) {
                writer.write(bytes)?;
            }
            Ok(())
        },
    )?;
    for writer in writers {
        files.push(writer.finish()?);
    }

    // Tags, a batch of tags per round so memory stays bounded.
    let mut offsets = ColumnWriter::create::<u64>(dir, "tag_offsets")?;
    let mut tag_rows = ColumnWriter::create::<u32>(dir, "tag_members")?;
    let mut written = 0u64;
    offsets.write(&written.to_le_bytes())?;
    in_blocks(
        args.tags as usize,
        threads,
        |tag| tag_members(args.seed, tag as u64, members, tag_probability(c, tag as u64)),
        |list| {
            let mut bytes = Vec::with_capacity(list.len() * 4);
            list.iter().for_each(|m| m.put(&mut bytes));
            tag_rows.write(&bytes)?;
            written += list.len() as u64;
            offsets.write(&written.to_le_bytes())
        },
    )?;
    files.push(offsets.finish()?);
    files.push(tag_rows.finish()?);

    // Customers and orders.
    let mut registered = ColumnWriter::create::<u16>(dir, "customer_registered_day")?;
    let customer_rows = args.customers as usize;
    in_blocks(
        customer_rows.div_ceil(BLOCK),
        threads,
        |block| {
            let start = (block * BLOCK) as u64;
            let end = (start + BLOCK as u64).min(args.customers);
            let mut bytes = Vec::with_capacity((end - start) as usize * 2);
            (start..end).for_each(|customer| customer_profile(args.seed, customer).0.put(&mut bytes));
            bytes
        },
        |bytes| registered.write(&bytes),
    )?;
    files.push(registered.finish()?);
    let mut order_columns = [
        ColumnWriter::create::<u32>(dir, "order_customer")?,
        ColumnWriter::create::<u16>(dir, "order_day")?,
        ColumnWriter::create::<u32>(dir, "order_amount")?,
        ColumnWriter::create::<u8>(dir, "order_category")?,
    ];
    let lines = args.order_lines as usize;
    in_blocks(
        lines.div_ceil(BLOCK),
        threads,
        |block| order_block(args.seed, block, lines, args.customers),
        |block| {
            let [customer, day, amount, category] = &mut order_columns;
            customer.write(&block.customer)?;
            day.write(&block.day)?;
            amount.write(&block.amount)?;
            category.write(&block.category)
        },
    )?;
    for writer in order_columns {
        files.push(writer.finish()?);
    }

    let manifest = Manifest {
        format: "quanyu-bench-data/1".into(),
        seed: args.seed,
        members: args.members,
        tags: args.tags,
        tags_per_member: args.tags_per_member,
        tag_zipf_c: c,
        member_tag_rows: written,
        customers: args.customers,
        order_lines: args.order_lines,
        today: TODAY,
        tiers: TIERS.iter().map(|s| (*s).to_owned()).collect(),
        regions: REGIONS.iter().map(|s| (*s).to_owned()).collect(),
        stores: (1..=args.stores).map(|s| format!("S{s:03}")).collect(),
        stages: Stage::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
        files,
    };
    let json = serde_json::to_string_pretty(&manifest)?;
    std::fs::write(dir.join("manifest.json"), json + "\n").context("writing manifest.json")?;
    Ok(manifest)
}

/// `quanyu bench-data`: generates and prints the manifest's sizes.
pub fn run(args: &BenchDataArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let manifest = generate(args)?;
    println!(
        "{}",
        serde_json::json!({
            "out": args.out,
            "members": manifest.members,
            "tags": manifest.tags,
            "member_tag_rows": manifest.member_tag_rows,
            "tags_per_member": manifest.member_tag_rows as f64 / manifest.members.max(1) as f64,
            "customers": manifest.customers,
            "order_lines": manifest.order_lines,
            "seconds": started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(out: PathBuf, threads: usize) -> BenchDataArgs {
        BenchDataArgs {
            out,
            seed: 7,
            members: 30_000,
            tags: 300,
            tags_per_member: 20.0,
            stores: 12,
            customers: 5_000,
            order_lines: 60_000,
            threads: Some(threads),
        }
    }

    fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap())
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn the_same_arguments_give_the_same_bytes_whatever_the_threads() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        generate(&small(a.path().into(), 1)).unwrap();
        generate(&small(b.path().into(), 3)).unwrap();
        assert_eq!(contents(a.path()), contents(b.path()));
        let c = tempfile::tempdir().unwrap();
        generate(&BenchDataArgs { seed: 8, ..small(c.path().into(), 2) }).unwrap();
        assert_ne!(contents(a.path()), contents(c.path()));
    }

    #[test]
    fn distributions_are_what_the_format_says() {
        let dir = tempfile::tempdir().unwrap();
        let args = small(dir.path().into(), 2);
        let manifest = generate(&args).unwrap();
        assert_eq!(Manifest::read(dir.path()).unwrap(), manifest);
        for file in &manifest.files {
            let len = std::fs::metadata(dir.path().join(&file.name)).unwrap().len();
            let size: u64 = file.dtype[2..].parse().unwrap();
            assert_eq!(len, file.len * size, "{}", file.name);
        }

        // Tags: sorted member lists, ~20 per member, popularity falling like 1/rank.
        let offsets: Vec<u64> = read_column(dir.path(), "tag_offsets").unwrap();
        let members: Vec<u32> = read_column(dir.path(), "tag_members").unwrap();
        assert_eq!(offsets.len(), 301);
        assert_eq!(*offsets.last().unwrap(), members.len() as u64);
        let per_member = members.len() as f64 / 30_000.0;
        assert!((per_member - 20.0).abs() < 0.5, "{per_member} tags per member");
        let count = |t: usize| (offsets[t + 1] - offsets[t]) as f64;
        for t in 0..300 {
            let list = &members[offsets[t] as usize..offsets[t + 1] as usize];
            assert!(list.windows(2).all(|w| w[0] < w[1]) && list.iter().all(|m| *m < 30_000));
            let expected = 30_000.0 * tag_probability(manifest.tag_zipf_c, t as u64);
            assert!((count(t) - expected).abs() < 5.0 * expected.sqrt() + 5.0, "tag {t}: {} vs {expected}", count(t));
        }
        assert!(count(0) > count(20) && count(20) > 5.0 * count(200), "popularity falls with the rank");

        // Members: scores in range and consistent with the stage.
        let stage: Vec<u8> = read_column(dir.path(), "member_stage").unwrap();
        let r: Vec<u8> = read_column(dir.path(), "member_r").unwrap();
        let last: Vec<u16> = read_column(dir.path(), "member_last_order_days").unwrap();
        let region: Vec<u8> = read_column(dir.path(), "member_region").unwrap();
        let store: Vec<u16> = read_column(dir.path(), "member_home_store").unwrap();
        assert_eq!(stage.len(), 30_000);
        for s in 0..6u8 {
            assert!(stage.iter().filter(|x| **x == s).count() > 50, "stage {s} occurs");
        }
        for i in 0..30_000 {
            assert_eq!(r[i] == 0, last[i] == NO_LAST_ORDER);
            assert!(r[i] <= 5 && usize::from(region[i]) == usize::from(store[i]) % 3 && store[i] < 12);
        }

        // Orders: known customers, days up to today, a tenth of the customers never ordering.
        let customer: Vec<u32> = read_column(dir.path(), "order_customer").unwrap();
        let day: Vec<u16> = read_column(dir.path(), "order_day").unwrap();
        let registered: Vec<u16> = read_column(dir.path(), "customer_registered_day").unwrap();
        assert_eq!((customer.len(), registered.len()), (60_000, 5_000));
        let mut orders = vec![0u32; 5_000];
        for (c, d) in customer.iter().zip(&day) {
            orders[*c as usize] += 1;
            assert!(*d <= TODAY && *d >= registered[*c as usize]);
        }
        let never = orders.iter().filter(|o| **o == 0).count();
        assert!((400..=600).contains(&never), "{never} customers never ordered");
        let busiest = orders.iter().max().unwrap();
        assert!(*busiest > 100, "activity is skewed: the busiest customer has {busiest} orders");
    }

    #[test]
    fn impossible_sizes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let args = BenchDataArgs { tags_per_member: 500.0, ..small(dir.path().into(), 1) };
        assert!(generate(&args).is_err());
        let args = BenchDataArgs { customers: 0, ..small(dir.path().into(), 1) };
        assert!(generate(&args).is_err());
    }
}
