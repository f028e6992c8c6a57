//! `quanyu bench rfm`: the columnar full rebuild of RFM scores and lifecycle stages
//! ([`quanyu_audience::rebuild::Rebuilder`], one kept across the runs as a long-lived process
//! keeps it) over `bench-data` order columns, timed in process, and the
//! incremental step (one order into one customer's tally, then that customer rescored) timed
//! over a large and a small population to show its cost does not grow with either.

use std::{path::Path, time::Instant};

use anyhow::Context;
use quanyu_audience::{
    OrderColumns, ScoringRules, Stage, Tally, assess,
    rebuild::{Rebuilder, Rebuilt},
};

use crate::{
    args::RfmBenchArgs,
    bench_data::{Column, Manifest, read_column},
};

fn write_column<T: Column>(dir: &Path, name: &str, values: impl Iterator<Item = T>) -> anyhow::Result<()> {
    let mut bytes = Vec::new();
    values.for_each(|v| v.put(&mut bytes));
    let path = crate::bench_data::column_path::<T>(dir, name);
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn write_scores(dir: &Path, rebuilt: &Rebuilt) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    write_column(dir, "score_r", rebuilt.rfm.iter().map(|s| s.r))?;
    write_column(dir, "score_f", rebuilt.rfm.iter().map(|s| s.f))?;
    write_column(dir, "score_m", rebuilt.rfm.iter().map(|s| s.m))?;
    let stage = |s: &Stage| Stage::ALL.iter().position(|x| x == s).unwrap_or(0) as u8;
    write_column(dir, "score_stage", rebuilt.stage.iter().map(stage))?;
    write_column(dir, "score_orders", rebuilt.tallies.iter().map(|t| t.orders))?;
    write_column(dir, "score_spend", rebuilt.tallies.iter().map(|t| t.spend))
}

/// Nanoseconds per order to apply `orders` one at a time to `tallies` (customer ordinals taken
/// modulo the population) and rescore the customer, as the product does on each payment.
fn incremental_ns(tallies: &mut [Tally], registered: &[u16], orders: OrderColumns<'_>, today: u16) -> f64 {
    let rules = ScoringRules::default();
    let population = tallies.len().min(registered.len()).max(1);
    let rows = orders.customer.len();
    let start = Instant::now();
    let mut checksum = 0u64;
    for ((&customer, &day), &amount) in orders.customer.iter().zip(orders.day).zip(orders.amount) {
        let customer = customer as usize % population;
        let tally = &mut tallies[customer];
        tally.add_order(day, amount);
        let scored = assess(&tally.activity(registered[customer]), i64::from(today), &rules);
        checksum = checksum.wrapping_add(u64::from(scored.rfm.f));
    }
    let elapsed = start.elapsed().as_nanos() as f64;
    std::hint::black_box(checksum);
    elapsed / rows.max(1) as f64
}

pub fn run(args: &RfmBenchArgs) -> anyhow::Result<()> {
    let manifest = Manifest::read(&args.data)?;
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let customer: Vec<u32> = read_column(&args.data, "order_customer")?;
    let day: Vec<u16> = read_column(&args.data, "order_day")?;
    let amount: Vec<u32> = read_column(&args.data, "order_amount")?;
    let registered: Vec<u16> = read_column(&args.data, "customer_registered_day")?;
    let orders = OrderColumns { customer: &customer, day: &day, amount: &amount };
    let rules = ScoringRules::default();

    // One rebuilder for every run, as the product's long-lived process keeps one: the first
    // run faults its buffers in, the later ones reuse them. Every run is reported.
    let mut rebuilder = Rebuilder::default();
    let mut seconds = Vec::new();
    for _ in 0..args.repeat.max(1) {
        let start = Instant::now();
        rebuilder.rebuild(orders, &registered, manifest.today, &rules, threads)?;
        seconds.push(start.elapsed().as_secs_f64());
    }
    let rebuilt = rebuilder.rebuilt();
    if let Some(dir) = &args.scores_out {
        write_scores(dir, rebuilt)?;
    }
    let mut stages = serde_json::Map::new();
    for stage in Stage::ALL {
        let count = rebuilt.stage.iter().filter(|s| **s == stage).count();
        stages.insert(stage.as_str().into(), count.into());
    }

    // The incremental step, over every customer and over a thousand of them: O(1) per order
    // means the same cost per order whatever the population.
    let take = args.incremental.min(customer.len());
    let sample = OrderColumns { customer: &customer[..take], day: &day[..take], amount: &amount[..take] };
    let mut everyone = rebuilt.tallies.clone();
    let large_ns = incremental_ns(&mut everyone, &registered, sample, manifest.today);
    let mut few = rebuilt.tallies.iter().take(1_000).copied().collect::<Vec<_>>();
    let small_ns = incremental_ns(&mut few, &registered, sample, manifest.today);

    let mut sorted = seconds.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({
            "customers": registered.len(),
            "order_lines": customer.len(),
            "threads": threads,
            "seconds": seconds,
            "best_seconds": sorted.first(),
            "median_seconds": sorted.get(sorted.len() / 2),
            "stages": stages,
            "incremental_orders": take,
            "incremental_ns_per_order": large_ns,
            "incremental_ns_per_order_1000_customers": small_ns,
        })
    );
    Ok(())
}
