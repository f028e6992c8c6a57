//! `quanyu demo`: seeds the generated chain into a local SQLite database, once, then serves it:
//! the organisation and catalog through the same import use cases a CSV goes through, opening
//! stock by purchase order, coupon templates and promotions, then (by default) 20,000 members
//! with a year of orders written in bulk, and the coupons some of them claimed or were given.

use std::{path::Path, time::Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use quanyu_app::{App, AppConfig, ChainPatch, Ctx, ImportOutcome, StoreSkuDraft};
use quanyu_store::{SkuFilter, StoreFilter};

use crate::{
    args::DemoArgs,
    commands::{open_database, serve_app},
    demo_data::{self, DEMO_PASSWORD, DemoChain},
};

/// How many products go into one import call, so the progress bar moves.
const SKU_BATCH: usize = 250;

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data).with_context(|| format!("creating {}", args.data.display()))?;
    let url = database_url(&args.data);
    let db = open_database(&url, true).await?;
    let app = App::new(db, AppConfig::default());
    if is_seeded(&app).await? {
        eprintln!("{} already holds a chain; serving it as it is.", args.data.display());
    } else {
        let started = Instant::now();
        let chain = seed(&app, args.seed, args.members, true).await?;
        eprintln!("Seeded {} in {:.1} s (seed {}).", chain.name, started.elapsed().as_secs_f64(), args.seed);
    }
    print_logins(&app, args.port).await?;
    if args.no_serve {
        return Ok(());
    }
    serve_app(app, &format!("127.0.0.1:{}", args.port)).await
}

/// Whether the database has a chain: seeding puts the chain last, so a chain means done.
pub async fn is_seeded(app: &App) -> anyhow::Result<bool> {
    let mut tx = app.database().read().await?;
    Ok(tx.get_chain().await?.is_some())
}

/// Generates the chain for `seed`, with `members` members, and writes it. Fails, writing
/// nothing more, if the database already holds part of a chain.
pub async fn seed(app: &App, seed: u64, members: usize, show_progress: bool) -> anyhow::Result<DemoChain> {
    let ctx = Ctx::system();
    // One hash for every demo login: argon2 per staff member would take minutes.
    let hash = app.config().passwords.hash(DEMO_PASSWORD).await?;
    let chain = demo_data::generate(seed, &hash);
    let total = chain.regions.len() + chain.stores.len() + chain.staff.len() + chain.skus.len() + chain.overrides.len();
    let bar = if show_progress { ProgressBar::new(total as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:<12} [{bar:40}] {pos}/{len} rows ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );

    bar.set_message("regions");
    accepted("regions", app.import_regions(&ctx, chain.regions.clone()).await?)?;
    bar.inc(chain.regions.len() as u64);
    bar.set_message("stores");
    let locations = [chain.stores.clone(), chain.warehouses.clone()].concat();
    accepted("stores", app.import_stores(&ctx, locations).await?)?;
    bar.inc(chain.stores.len() as u64);
    bar.set_message("staff");
    accepted("staff", app.import_staff(&ctx, chain.staff.clone()).await?)?;
    bar.inc(chain.staff.len() as u64);

    bar.set_message("catalog");
    for batch in product_batches(&chain, SKU_BATCH) {
        accepted("SKUs", app.import_skus(&ctx, batch.to_vec()).await?)?;
        bar.inc(batch.len() as u64);
    }

    bar.set_message("store prices");
    for promo in &chain.overrides {
        let store = store_id(app, &ctx, &promo.store).await?;
        let sku = sku_id(app, &ctx, &promo.sku).await?;
        let draft = StoreSkuDraft { price: Some(promo.price_fen), ..StoreSkuDraft::default() };
        app.set_store_sku(&ctx, store, sku, draft).await?;
        bar.inc(1);
    }

    bar.set_message("stock");
    crate::demo_stock::seed(app, &chain, seed).await?;
    // Marketing before the members, so the new-member and first-order rules reach them.
    bar.set_message("marketing");
    let shelf = crate::demo_members::shelf(app).await?;
    let marketing = crate::demo_marketing::seed(app, &shelf).await?;
    bar.set_message("members");
    let seeded = crate::demo_members::seed(app, seed, members, &shelf).await?;
    bar.set_message("coupons");
    let stores = crate::demo_members::stores(app).await?;
    let handed = crate::demo_marketing::hand_out(app, &marketing, &seeded.members, &stores, seed).await?;
    bar.set_message("growth");
    crate::demo_marketing::growth(app, &marketing, &seeded.members, seed).await?;
    bar.set_message("flash sales");
    let flash_sales = crate::demo_marketing::flash_sales(app, &shelf, &stores).await?;
    bar.set_message("stored value");
    let wallets = crate::demo_wallets::seed(app, &seeded.members, seed).await?;
    if show_progress {
        bar.suspend(|| {
            eprintln!(
                "{} members with {} orders ({} paid, {} points), {} coupon templates, {} promotions; {} coupons \
                 claimed and {} given by guides, besides the new-member and first-order ones; {} members \
                 with stored value; a flash sale in each of {} stores.",
                seeded.members.len(),
                seeded.orders,
                seeded.spend,
                seeded.points,
                marketing.templates,
                marketing.promotions,
                handed.claimed,
                handed.from_guides,
                wallets,
                flash_sales
            );
        });
    }

    let patch = ChainPatch { name: Some(chain.name.clone()), time_zone: Some("Asia/Shanghai".to_owned()) };
    app.update_chain(&ctx, patch).await?;
    bar.finish_with_message("done");
    Ok(chain)
}

/// Consecutive slices of the SKU rows holding about `products` products each, never splitting
/// a product (its rows are adjacent in the generated catalog).
fn product_batches(chain: &DemoChain, products: usize) -> Vec<&[quanyu_app::SkuRow]> {
    let mut batches = Vec::new();
    let (mut start, mut seen) = (0, 0);
    for i in 1..=chain.skus.len() {
        let boundary = i == chain.skus.len() || chain.skus[i].product != chain.skus[i - 1].product;
        if boundary {
            seen += 1;
            if seen == products || i == chain.skus.len() {
                batches.push(&chain.skus[start..i]);
                (start, seen) = (i, 0);
            }
        }
    }
    batches
}

fn accepted(what: &str, outcome: ImportOutcome) -> anyhow::Result<()> {
    match outcome {
        ImportOutcome::Imported(_) => Ok(()),
        ImportOutcome::Rejected(issues) => {
            let first: Vec<String> = issues.iter().take(5).map(ToString::to_string).collect();
            bail!(
                "the demo {what} were refused (a half-seeded database? delete the demo directory and retry): {}",
                first.join("; ")
            )
        }
    }
}

async fn store_id(app: &App, ctx: &Ctx, code: &str) -> anyhow::Result<quanyu_domain::ids::StoreId> {
    let filter = StoreFilter { search: Some(code.to_owned()), ..StoreFilter::default() };
    let found = app.list_stores(ctx, filter, None, Some(50)).await?;
    found.items.into_iter().find(|s| s.code == code).map(|s| s.id).context("a demo store vanished")
}

async fn sku_id(app: &App, ctx: &Ctx, code: &str) -> anyhow::Result<quanyu_domain::ids::SkuId> {
    let filter = SkuFilter { search: Some(code.to_owned()), ..SkuFilter::default() };
    let found = app.list_skus(ctx, filter, None, Some(50)).await?;
    found.items.into_iter().find(|s| s.code == code).map(|s| s.id).context("a demo SKU vanished")
}

async fn print_logins(app: &App, port: u16) -> anyhow::Result<()> {
    let ctx = Ctx::system();
    let store = |code: &'static str| async move {
        let filter = StoreFilter { search: Some(code.to_owned()), ..StoreFilter::default() };
        let found = app.list_stores(&ctx, filter, None, Some(5)).await?;
        anyhow::Ok(found.items.into_iter().find(|s| s.code == code).map_or_else(String::new, |s| s.name))
    };
    let first_store = store("SH001").await?;
    println!();
    println!("  Quanyu demo: http://127.0.0.1:{port}");
    println!("  API docs:    http://127.0.0.1:{port}/api/docs");
    println!();
    println!("  Logins (password {DEMO_PASSWORD}):");
    println!("    admin           HQ admin, the whole chain");
    println!("    sm-sh001        store manager, SH001 {first_store}");
    println!("    cashier-sh001   cashier, SH001 {first_store}");
    println!("    guide-sh001     guide, SH001 (the store's members are theirs)");
    println!("    rm-sh           region manager, 上海大区");
    println!();
    if let Some((phone, balance)) = crate::demo_wallets::sample(app).await? {
        println!("  H5 mall:     http://127.0.0.1:{port}/m");
        println!("    customer {phone} has {balance} of stored value; sign in with that phone, and read the");
        println!("    one-time code in this server's log (\"SMS to …\").");
        println!();
    }
    Ok(())
}

/// The demo database of a directory, as a URL.
pub fn database_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("quanyu.db").display())
}
