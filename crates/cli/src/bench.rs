//! `quanyu bench`: workloads for the whole-system benchmarks in `bench/`, run against a real
//! database with the real use cases, printing what they measured as one JSON line.

use std::{sync::Arc, time::Instant};

use anyhow::{Context, bail};
use chrono::Duration;
use quanyu_app::{
    App, AppConfig, CategoryDraft, Ctx, FlashSaleDraft, NewApiToken, PriceDraft, ProductDraft, RegionDraft, SkuDraft,
    StaffDraft, StoreDraft,
};
use quanyu_domain::inventory::{MovementKind, StockChange};

use crate::{
    args::{FlashSaleBenchArgs, NearestBenchArgs},
    bench_audience::{Usage, process_cpu_ms},
    commands::open_database,
    config::Settings,
    seeding::{fresh, keyed, no_reply},
};

pub async fn flash_sale(args: FlashSaleBenchArgs) -> anyhow::Result<()> {
    let settings = Settings::load(&args.database, None)?;
    let db = open_database(&settings.database_url, true).await?;
    let app = App::new(db, AppConfig::default());
    let run = uuid::Uuid::now_v7().simple().to_string();
    let tag = &run[20..];
    let system = Ctx::system();
    let requests = i64::try_from(args.requests).context("--requests is too large")?;

    let region = fresh(
        app.create_region(&system, RegionDraft { code: format!("B{tag}"), name: "bench".into() }, &no_reply).await?,
    )?;
    let store_draft = StoreDraft {
        code: format!("B{tag}"),
        name: "bench".into(),
        region_id: Some(region.id),
        address: "bench".into(),
        lat: 31.2,
        lng: 121.4,
        area_m2: 100,
        opening_hours: Some("00:00-24:00".into()),
        ..StoreDraft::default()
    };
    let store = fresh(app.create_store(&system, store_draft, &no_reply).await?)?.id;
    let category = CategoryDraft { name: format!("bench {tag}"), ..CategoryDraft::default() };
    let category = fresh(app.create_category(&system, category, &no_reply).await?)?;
    let product = ProductDraft {
        name: "bench".into(),
        category_id: Some(category.id),
        skus: vec![SkuDraft {
            code: format!("B{tag}"),
            name: "bench".into(),
            unit: "个".into(),
            prices: PriceDraft { base: 100, ..PriceDraft::default() },
            ..SkuDraft::default()
        }],
        ..ProductDraft::default()
    };
    let (_, skus) = fresh(app.create_product(&system, product, &no_reply).await?)?;
    let sku = skus[0].id;
    let receipt = [(sku, StockChange::Move { kind: MovementKind::PurchaseReceipt, delta: requests })];
    app.change_stock(&system, store, "purchase_receipt", &receipt, &format!("bench:{run}"), None).await?;
    let now = chrono::Utc::now();
    let sale = FlashSaleDraft {
        store_id: Some(store),
        sku_id: Some(sku),
        price: 1,
        quota: requests,
        per_customer_limit: 1,
        starts_at: Some(now - Duration::minutes(1)),
        ends_at: Some(now + Duration::hours(6)),
        // Holds outlive the run, so the checks count every reservation made.
        hold_minutes: Some(24 * 60),
    };
    let sale = fresh(app.create_flash_sale(&system, sale, &no_reply).await?)?;

    if args.seed_only {
        let staff = StaffDraft {
            username: format!("bench{tag}"),
            display_name: "bench".into(),
            role: "hq_admin".into(),
            password: format!("bench-{run}"),
            ..StaffDraft::default()
        };
        fresh(app.create_staff(&system, staff, &no_reply).await?)?;
        let login = app.login(&format!("bench{tag}"), &format!("bench-{run}"), &Default::default()).await?;
        let ctx = Ctx::new(app.authenticate(&login.secret).await?);
        let token = fresh(
            app.create_api_token(&ctx, NewApiToken { name: "bench".into(), expires_in_days: Some(1) }, &no_reply)
                .await?,
        )?;
        println!("{}", serde_json::json!({ "sale_id": sale.id, "token": token.secret }));
        return Ok(());
    }

    // Armed as a sale about to start is (`create_flash_sale` arms those itself; this one was
    // made to start a minute ago).
    app.arm_flash_sale(sale.id).await?;
    let app = Arc::new(app);
    let (started, cpu_started, usage_started) = (Instant::now(), process_cpu_ms(), Usage::now());
    let per_task = args.requests.div_ceil(args.concurrency.max(1));
    let tasks: Vec<_> = (0..args.concurrency.max(1))
        .map(|task| {
            let app = Arc::clone(&app);
            let sale_id = sale.id;
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_task as usize);
                let mut refused = 0u64;
                // One context per buyer task, its key rewritten per request (each request is a
                // new buyer, key `{task}-{n}`); the buyer is a member id as staff send it, made
                // of the task and n, so every request is a member of its own (per-customer limit
                // 1) and no two tasks share one.
                let prefix = format!("{task}-");
                let mut ctx = keyed(&prefix);
                // A buyer's next request begins as the last one ends: one clock read each.
                let mut begun = Instant::now();
                for n in 0..per_task {
                    if let Some(idempotency) = ctx.idempotency.as_mut() {
                        idempotency.key.truncate(prefix.len());
                        push_decimal(&mut idempotency.key, n);
                    }
                    // The id's text is read as the request is made: the future waiting for the
                    // answer keeps none of it.
                    let reserving = {
                        let mut buffer = uuid::Uuid::encode_buffer();
                        let buyer = uuid::Uuid::from_u64_pair(task, n).hyphenated().encode_lower(&mut buffer);
                        app.reserve_flash_sale(&ctx, sale_id, buyer, 1)
                    };
                    let reserved = reserving.await;
                    let ended = Instant::now();
                    match reserved {
                        Ok(_) => latencies.push(ended - begun),
                        Err(_) => refused += 1,
                    }
                    begun = ended;
                }
                (latencies, refused)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut refused = 0;
    for task in tasks {
        let (mut done, no) = task.await?;
        latencies.append(&mut done);
        refused += no;
    }
    let (elapsed, cpu_ms) = (started.elapsed(), process_cpu_ms() - cpu_started);
    let usage = Usage::now().since(usage_started);
    latencies.sort();
    let percentile =
        |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)));
    let ms = |d: Option<&std::time::Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    // Behind the rush: the journal becomes reservation rows; then the books must agree.
    let materializing = Instant::now();
    app.materialize_flash_sales(Some(sale.id)).await?;
    let materialize_seconds = materializing.elapsed().as_secs_f64();
    let (after, buyers) = app.get_flash_sale_buyers(&system, sale.id).await?;
    let counted: i64 = buyers.iter().map(|(_, n)| n).sum();
    let mut tx = app.database().read().await?;
    let stock = tx.get_stock(store, sku).await?.context("the bench SKU has no stock row")?;
    let ledger_sound = tx.reconcile_stock().await?.is_empty();
    drop(tx);
    let reserved = latencies.len() as i64;
    let books_agree = after.sold == reserved && counted == reserved && stock.levels.reserved.get() == reserved;
    println!(
        "{}",
        serde_json::json!({
            "backend": app.database().backend().as_str(),
            "reserved": reserved,
            "refused": refused,
            "sold": after.sold,
            "oversold": after.sold > after.quota,
            "seconds": elapsed.as_secs_f64(),
            "per_second": reserved as f64 / elapsed.as_secs_f64(),
            // The rush's CPU time on all the process's threads, per reservation made: what the
            // engine and its buyers cost, whatever else the machine was running.
            "cpu_us_per_reservation": cpu_ms * 1e3 / reserved.max(1) as f64,
            // The same, in user space and in the kernel (see `Usage`): comparing two builds, the
            // user part is the code's and the steadier; the kernel's swings with the host.
            "user_us_per_reservation": usage.user_ms * 1e3 / reserved.max(1) as f64,
            "system_us_per_reservation": usage.system_ms * 1e3 / reserved.max(1) as f64,
            // Pages the rush touched for the first time (see `Usage::minor_faults`).
            "minor_faults": usage.minor_faults,
            "p50_ms": ms(percentile(0.50)),
            "p99_ms": ms(percentile(0.99)),
            "journal_records": after.journal_seq,
            "materialize_seconds": materialize_seconds,
            "books_agree": books_agree,
            "ledger_sound": ledger_sound,
        })
    );
    if !books_agree || !ledger_sound || after.sold > after.quota {
        bail!(
            "the books disagree: sold {}, buyers {counted}, reserved stock {}, acknowledged {reserved}",
            after.sold,
            stock.levels.reserved.get()
        );
    }
    Ok(())
}

/// Times nearest-store searches through the spatial index and through a linear scan that
/// sorts every haversine distance, over the same stores and points, and checks they agree.
pub fn nearest(args: &NearestBenchArgs) -> anyhow::Result<()> {
    use quanyu_domain::{geo::Coordinates, spatial::SpatialIndex};
    let mut rng = crate::rng::Rng::new(42);
    let mut point = || -> anyhow::Result<Coordinates> {
        // Mainland China's bounding box, in millionths of a degree.
        let lat = rng.range(18_000_000, 53_000_000) as f64 / 1e6;
        let lng = rng.range(73_000_000, 135_000_000) as f64 / 1e6;
        Ok(Coordinates::new(lat, lng)?)
    };
    let stores: Vec<Coordinates> = (0..args.stores).map(|_| point()).collect::<anyhow::Result<_>>()?;
    let queries: Vec<Coordinates> = (0..args.queries).map(|_| point()).collect::<anyhow::Result<_>>()?;

    let started = Instant::now();
    let index = SpatialIndex::new(stores.iter().copied().enumerate().map(|(i, p)| (p, i)));
    let build_ms = started.elapsed().as_secs_f64() * 1e3;

    let started = Instant::now();
    let mut indexed = Vec::with_capacity(queries.len());
    for q in &queries {
        indexed.push(index.nearest(*q).take(args.take).map(|(i, _)| *i).collect::<Vec<_>>());
    }
    let index_us = started.elapsed().as_secs_f64() * 1e6 / queries.len() as f64;

    let started = Instant::now();
    let mut scanned = Vec::with_capacity(queries.len());
    for q in &queries {
        let mut all: Vec<(f64, usize)> = stores.iter().enumerate().map(|(i, s)| (s.distance_m(q), i)).collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        scanned.push(all.into_iter().take(args.take).map(|(_, i)| i).collect::<Vec<_>>());
    }
    let scan_us = started.elapsed().as_secs_f64() * 1e6 / queries.len() as f64;
    let disagreements = indexed.iter().zip(&scanned).filter(|(a, b)| a != b).count();
    println!(
        "{}",
        serde_json::json!({
            "stores": args.stores,
            "queries": args.queries,
            "take": args.take,
            "index_build_ms": (build_ms * 100.0).round() / 100.0,
            "rtree_us_per_query": (index_us * 100.0).round() / 100.0,
            "linear_scan_us_per_query": (scan_us * 100.0).round() / 100.0,
            "speedup": (scan_us / index_us * 10.0).round() / 10.0,
            "disagreements": disagreements,
        })
    );
    if disagreements > 0 {
        bail!("the index and the scan disagreed on {disagreements} searches");
    }
    Ok(())
}

/// Appends `n` in decimal. The harness names a new buyer for every request, on the cores the
/// engine under test runs on; `write!` cost it more there than this does.
fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

#[cfg(test)]
mod tests {
    use super::push_decimal;

    #[test]
    fn decimals_are_written_as_format_writes_them() {
        for n in [0, 7, 10, 4_095, 400_000, u64::MAX] {
            let mut out = "12-".to_owned();
            push_decimal(&mut out, n);
            assert_eq!(out, format!("12-{n}"));
        }
    }
}
