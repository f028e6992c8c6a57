//! `quanyu bench audience`: the product's [`AudienceIndex`] built from `bench-data` files, and
//! each expression counted through the real parser (against the product's schema) and the real
//! evaluator, warm, many times; prints one JSON line per expression and one summary line.

use std::{fs::File, path::Path, time::Instant};

use anyhow::{Context, bail};
use quanyu_audience::{AudienceIndex, BitSlicedIndex, CategoricalField, RoaringBitmap};

use crate::{
    args::AudienceBenchArgs,
    bench_data::{Column, Manifest, NO_LAST_ORDER, read_column, read_column_range},
};

/// This process's resident memory, in KiB (Linux; 0 elsewhere).
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time this process has used so far, on all its threads, in ms: a measured part's CPU
/// time whatever else the machine runs (wall time waits for a free core when it is loaded).
pub(crate) fn process_cpu_ms() -> f64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the one timespec it is given, which lives on this stack.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    if status != 0 {
        return 0.0;
    }
    now.tv_sec as f64 * 1e3 + now.tv_nsec as f64 / 1e6
}

/// What this process has used so far, from `getrusage` (zeros where it fails).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Usage {
    /// Minor page faults: each is a page of memory touched for the first time (or given back
    /// and touched again). On a virtual machine whose host takes free memory back, such a first
    /// touch costs several microseconds; a measured part's count says how much of its CPU time
    /// may be that.
    pub minor_faults: u64,
    /// CPU time in user space, ms.
    pub user_ms: f64,
    /// CPU time in the kernel on the process's behalf (system calls, page faults), ms: what the
    /// machine rather than the code decides, and the part that swings from run to run here.
    pub system_ms: f64,
}

impl Usage {
    pub(crate) fn now() -> Usage {
        // SAFETY: getrusage only writes the one struct it is given, which lives on this stack.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: as above; RUSAGE_SELF is always a valid target.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
            return Usage::default();
        }
        let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
        Usage {
            minor_faults: u64::try_from(usage.ru_minflt).unwrap_or(0),
            user_ms: ms(usage.ru_utime),
            system_ms: ms(usage.ru_stime),
        }
    }

    /// What was used between `earlier` and this.
    pub(crate) fn since(self, earlier: Usage) -> Usage {
        Usage {
            minor_faults: self.minor_faults.saturating_sub(earlier.minor_faults),
            user_ms: self.user_ms - earlier.user_ms,
            system_ms: self.system_ms - earlier.system_ms,
        }
    }
}

/// Each tag's members as a bitmap, `threads` tags at a time.
fn load_tags(dir: &Path, manifest: &Manifest, threads: usize) -> anyhow::Result<Vec<RoaringBitmap>> {
    let offsets: Vec<u64> = read_column(dir, "tag_offsets")?;
    if offsets.len() as u64 != manifest.tags + 1 {
        bail!("tag_offsets has {} entries for {} tags", offsets.len(), manifest.tags);
    }
    let path = crate::bench_data::column_path::<u32>(dir, "tag_members");
    let threads = threads.max(1);
    let loaded = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                let (offsets, path) = (&offsets, &path);
                scope.spawn(move || -> anyhow::Result<Vec<(usize, RoaringBitmap)>> {
                    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
                    let mut buffer = Vec::new();
                    let mut out = Vec::new();
                    for tag in (worker..offsets.len() - 1).step_by(threads) {
                        let len = usize::try_from(offsets[tag + 1] - offsets[tag])?;
                        let members: Vec<u32> = read_column_range(&mut file, offsets[tag], len, &mut buffer)?;
                        let bitmap = RoaringBitmap::from_sorted_iter(members)
                            .map_err(|_| anyhow::anyhow!("tag {tag}'s members are not ascending"))?;
                        out.push((tag, bitmap));
                    }
                    Ok(out)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect::<Vec<_>>()
    });
    let mut tags = vec![RoaringBitmap::new(); offsets.len() - 1];
    for part in loaded {
        for (tag, bitmap) in part? {
            tags[tag] = bitmap;
        }
    }
    Ok(tags)
}

/// A categorical field from a column of codes into `names`.
fn categorical<T: Column + Into<u64>>(dir: &Path, column: &str, names: &[String]) -> anyhow::Result<CategoricalField> {
    let codes: Vec<T> = read_column(dir, column)?;
    // Each value's members gathered first, then built in one `from_sorted_iter`: roaring's
    // one-value `try_push` scans a dense container for its maximum on every call.
    let mut members = vec![Vec::new(); names.len()];
    for (member, code) in (0u32..).zip(codes) {
        let code: u64 = code.into();
        let Some(value_members) = usize::try_from(code).ok().and_then(|code| members.get_mut(code)) else {
            bail!("{column}: member {member} has code {code}, which names nothing");
        };
        value_members.push(member);
    }
    let bitmaps = members.into_iter().map(|members| RoaringBitmap::from_sorted_iter(members).unwrap_or_default());
    CategoricalField::from_members(names.iter().cloned().zip(bitmaps)).context("a member with two values")
}

/// A numeric field from a column, leaving out the members whose value is `missing`.
fn numeric<T: Column + Into<u64>>(dir: &Path, column: &str, missing: Option<u64>) -> anyhow::Result<BitSlicedIndex> {
    let values: Vec<T> = read_column(dir, column)?;
    let pairs = (0u32..).zip(values).map(|(member, value)| (member, value.into())).filter(|(_, v)| Some(*v) != missing);
    BitSlicedIndex::from_sorted(pairs).context("members out of order")
}

/// The index the product would hold for this population: the same fields as
/// `quanyu_app::audience_schema` (but `rfm_segment`), and every tag.
pub fn load_index(dir: &Path, manifest: &Manifest, threads: usize) -> anyhow::Result<(AudienceIndex, u64)> {
    let mut index = AudienceIndex::default();
    let before = rss_kib();
    for (tag, members) in load_tags(dir, manifest, threads)?.into_iter().enumerate() {
        index.set_tag_members(&format!("t{tag}"), members);
    }
    let tags_rss = rss_kib().saturating_sub(before);
    index.set_categorical_field("tier", categorical::<u8>(dir, "member_tier", &manifest.tiers)?);
    index.set_categorical_field("home_store", categorical::<u16>(dir, "member_home_store", &manifest.stores)?);
    index.set_categorical_field("region", categorical::<u8>(dir, "member_region", &manifest.regions)?);
    index.set_categorical_field("stage", categorical::<u8>(dir, "member_stage", &manifest.stages)?);
    for (field, column) in [("points", "member_points"), ("spend_365d", "member_spend_365d")] {
        index.set_numeric_field(field, numeric::<u32>(dir, column, None)?);
    }
    index.set_numeric_field("orders_365d", numeric::<u16>(dir, "member_orders_365d", None)?);
    for field in ["r", "f", "m"] {
        index.set_numeric_field(field, numeric::<u8>(dir, &format!("member_{field}"), None)?);
    }
    let last = numeric::<u16>(dir, "member_last_order_days", Some(u64::from(NO_LAST_ORDER)))?;
    index.set_numeric_field("last_order_days", last);
    let members = u32::try_from(manifest.members).context("members")?;
    // Every member is live, with or without tags.
    let mut everyone = RoaringBitmap::new();
    everyone.insert_range(0..members);
    if index.universe() != &everyone {
        bail!("the files describe {} live members, the manifest {members}", index.universe().len());
    }
    Ok((index, tags_rss))
}

/// `(name, expression)` pairs from a file of `name<TAB>expression` lines.
pub fn read_expressions(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| match line.split_once('\t') {
            Some((name, expression)) => Ok((name.to_owned(), expression.to_owned())),
            None => bail!("{}: `{line}` is not name<TAB>expression", path.display()),
        })
        .collect()
}

/// The `q` quantile (0–1) of ascending `sorted`, nearest rank.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or(0.0)
}

pub fn run(args: &AudienceBenchArgs) -> anyhow::Result<()> {
    let manifest = Manifest::read(&args.data)?;
    let expressions = read_expressions(&args.expressions)?;
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let started = Instant::now();
    let (index, tags_rss_kib) = load_index(&args.data, &manifest, threads)?;
    let load_seconds = started.elapsed().as_secs_f64();
    let mut schema = quanyu_app::audience_schema();
    index.tag_names().for_each(|tag| schema.add_tag(tag));

    // One shard is the index as the product holds it; more cut it by ordinal range (no copy kept).
    let tag_bytes = index.tag_bytes();
    let shards = quanyu_audience::Shards::new(index, args.shards);
    let (mut all, mut all_cpu) = (Vec::new(), Vec::new());
    for (name, expression) in &expressions {
        let mut times = Vec::with_capacity(args.repeat);
        let mut cpu_times = Vec::with_capacity(args.repeat);
        let mut count = None;
        for run in 0..args.warmup + args.repeat {
            let (start, cpu_start) = (Instant::now(), process_cpu_ms());
            let expr = quanyu_audience::parse(expression, &schema).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            let members = shards.count(&expr);
            let elapsed = start.elapsed().as_secs_f64() * 1e3;
            let cpu = process_cpu_ms() - cpu_start;
            if count.is_some_and(|c| c != members) {
                bail!("{name}: the count changed between runs");
            }
            count = Some(members);
            if run >= args.warmup {
                times.push(elapsed);
                cpu_times.push(cpu);
            }
        }
        times.sort_by(f64::total_cmp);
        cpu_times.sort_by(f64::total_cmp);
        println!(
            "{}",
            serde_json::json!({
                "name": name,
                "expression": expression,
                "count": count.unwrap_or(0),
                "p50_ms": quantile(&times, 0.5),
                "p95_ms": quantile(&times, 0.95),
                "cpu_p50_ms": quantile(&cpu_times, 0.5),
            })
        );
        all.extend(times);
        all_cpu.extend(cpu_times);
    }
    for (name, expression) in &expressions {
        if args.lookalike_seeds.iter().any(|seed| name.split_whitespace().next() == Some(seed.as_str())) {
            let expr = quanyu_audience::parse(expression, &schema).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            time_lookalike(&shards, name, &shards.evaluate(&expr), args)?;
        }
    }
    all.sort_by(f64::total_cmp);
    all_cpu.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({
            "summary": true,
            "members": manifest.members,
            "member_tag_rows": manifest.member_tag_rows,
            "load_seconds": load_seconds,
            "tag_index_bytes": tag_bytes,
            "tag_index_rss_kib": tags_rss_kib,
            "rss_kib": rss_kib(),
            "p50_ms": quantile(&all, 0.5),
            "p95_ms": quantile(&all, 0.95),
            "cpu_p50_ms": quantile(&all_cpu, 0.5),
            "cpu_p95_ms": quantile(&all_cpu, 0.95),
        })
    );
    Ok(())
}

/// Ranks the members most like `seed` (as `POST /api/v1/audiences/lookalike` does, over the
/// product's shards), once untimed and then `lookalike_repeat` times; prints one JSON line.
fn time_lookalike(
    shards: &quanyu_audience::Shards,
    name: &str,
    seed: &RoaringBitmap,
    args: &AudienceBenchArgs,
) -> anyhow::Result<()> {
    let (mut times, mut cpu_times, mut best) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..=args.lookalike_repeat {
        let (start, cpu_start, rss_before) = (Instant::now(), process_cpu_ms(), rss_kib());
        let ranked = shards.lookalike(seed, None, args.lookalike_limit);
        let (elapsed, cpu) = (start.elapsed().as_secs_f64() * 1e3, process_cpu_ms() - cpu_start);
        if run > 0 {
            times.push(elapsed);
            cpu_times.push(cpu);
            if ranked != best {
                bail!("{name}: the lookalike changed between runs");
            }
        }
        best = ranked;
        eprintln!("lookalike {name}: {elapsed:.0} ms, RSS {} → {} MiB", rss_before / 1024, rss_kib() / 1024);
    }
    times.sort_by(f64::total_cmp);
    cpu_times.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({
            "lookalike": name,
            "seed_members": seed.len(),
            "ranked": best.len(),
            "p50_ms": quantile(&times, 0.5),
            "cpu_p50_ms": quantile(&cpu_times, 0.5),
            "rss_kib": rss_kib(),
            "best": best.first().map(|b| serde_json::json!({ "score": b.score, "features": b.features })),
        })
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::BenchDataArgs;

    #[test]
    fn the_index_loaded_from_bench_data_counts_like_the_columns_say() {
        let dir = tempfile::tempdir().unwrap();
        let args = BenchDataArgs {
            out: dir.path().into(),
            seed: 3,
            members: 5_000,
            tags: 40,
            tags_per_member: 6.0,
            stores: 8,
            customers: 0,
            order_lines: 0,
            threads: Some(2),
        };
        let manifest = crate::bench_data::generate(&args).unwrap();
        let (index, _) = load_index(dir.path(), &manifest, 2).unwrap();
        let mut schema = quanyu_app::audience_schema();
        index.tag_names().for_each(|tag| schema.add_tag(tag));
        let expr = quanyu_audience::parse("#t0 and not #t1 and points >= 5000 and stage != churned", &schema).unwrap();

        let offsets: Vec<u64> = read_column(dir.path(), "tag_offsets").unwrap();
        let members: Vec<u32> = read_column(dir.path(), "tag_members").unwrap();
        let carries = |tag: usize, member: u32| {
            members[offsets[tag] as usize..offsets[tag + 1] as usize].binary_search(&member).is_ok()
        };
        let points: Vec<u32> = read_column(dir.path(), "member_points").unwrap();
        let stage: Vec<u8> = read_column(dir.path(), "member_stage").unwrap();
        let churned = manifest.stages.iter().position(|s| s == "churned").unwrap() as u8;
        let expected = (0..5_000u32)
            .filter(|&m| carries(0, m) && !carries(1, m) && points[m as usize] >= 5000 && stage[m as usize] != churned)
            .count() as u64;
        assert!(expected > 0);
        assert_eq!(quanyu_audience::count(&expr, &index), expected);
    }
}
