//! The commands that work on a configured database: `serve`, `migrate`, `import`, `export`,
//! `reconcile`, `scores rebuild`.

use std::{
    fs::File,
    io::{self, BufReader, BufWriter, Write},
    sync::Arc,
};

use anyhow::{Context, bail};
use quanyu_app::{App, AppConfig, Ctx, ImportOutcome, RegionRow, SkuRow, StaffRow, StoreRow};
use quanyu_store::Database;
use quanyu_web::WebOptions;

use crate::{
    args::{DatabaseArgs, ExportArgs, ImportArgs, Kind, RebuildScoresArgs, ServeArgs},
    config::{Settings, ensure_sqlite_dir},
    csv_io::{CsvRow, read_rows, write_rows},
};

/// Opens the database at `url`, applying pending migrations when `migrate` is set.
pub async fn open_database(url: &str, migrate: bool) -> anyhow::Result<Arc<dyn Database>> {
    ensure_sqlite_dir(url)?;
    let db = quanyu_store::connect(url).await.with_context(|| format!("opening {}", redact(url)))?;
    if migrate {
        let applied = db.migrate().await.context("applying migrations")?;
        for migration in &applied {
            tracing::info!(?migration, "migration applied");
        }
    }
    Ok(db)
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings::load(&args.database, args.bind.as_deref())?;
    let db = open_database(&settings.database_url, true).await?;
    tracing::info!(database = %redact(&settings.database_url), "database ready");
    let config = AppConfig {
        audience_shards: settings.audience_shards,
        booking_horizon: settings.booking_horizon(),
        ..AppConfig::default()
    };
    serve_app(App::new(db, config), &settings.bind).await
}

/// Serves the HTTP API of `app` on `bind` until Ctrl-C or SIGTERM.
pub async fn serve_app(app: App, bind: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| format!("listening on {bind}"))?;
    tracing::info!(address = %listener.local_addr()?, "serving");
    let database = Arc::clone(app.database());
    let sweeper = tokio::spawn(app.clone().sweep_expired_holds(std::time::Duration::from_secs(30)));
    let served = quanyu_web::serve(listener, quanyu_web::router(app, WebOptions::default())).await;
    sweeper.abort();
    served.context("serving HTTP")?;
    database.close().await;
    Ok(())
}

pub async fn migrate(args: DatabaseArgs) -> anyhow::Result<()> {
    let settings = Settings::load(&args, None)?;
    let db = open_database(&settings.database_url, false).await?;
    let applied = db.migrate().await.context("applying migrations")?;
    if applied.is_empty() {
        println!("{}: up to date, nothing to apply", redact(&settings.database_url));
    }
    for migration in &applied {
        println!("applied {migration:?}");
    }
    db.close().await;
    Ok(())
}

pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let settings = Settings::load(&args.database, None)?;
    let file = File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let input = BufReader::new(file);
    let context = || format!("reading {}", args.file.display());
    // Parse the whole file before touching the database: a malformed file changes nothing.
    enum Rows {
        Regions(Vec<RegionRow>),
        Stores(Vec<StoreRow>),
        Staff(Vec<StaffRow>),
        Skus(Vec<SkuRow>),
    }
    let rows = match args.kind {
        Kind::Regions => Rows::Regions(read_rows(input).with_context(context)?),
        Kind::Stores => Rows::Stores(read_rows(input).with_context(context)?),
        Kind::Staff => Rows::Staff(read_rows(input).with_context(context)?),
        Kind::Skus => Rows::Skus(read_rows(input).with_context(context)?),
    };
    let db = open_database(&settings.database_url, true).await?;
    let app = App::new(Arc::clone(&db), AppConfig::default());
    let ctx = Ctx::system();
    let outcome = match rows {
        Rows::Regions(rows) => app.import_regions(&ctx, rows).await?,
        Rows::Stores(rows) => app.import_stores(&ctx, rows).await?,
        Rows::Staff(rows) => app.import_staff(&ctx, rows).await?,
        Rows::Skus(rows) => app.import_skus(&ctx, rows).await?,
    };
    db.close().await;
    match outcome {
        ImportOutcome::Imported(summary) => {
            println!("{}: {summary}", args.file.display());
            Ok(())
        }
        ImportOutcome::Rejected(issues) => {
            let mut stderr = io::stderr().lock();
            for issue in &issues {
                writeln!(stderr, "{}: {issue}", args.file.display())?;
            }
            let lines: std::collections::BTreeSet<usize> = issues.iter().map(|i| i.line).collect();
            bail!("{} problem(s) on {} line(s); nothing was written", issues.len(), lines.len())
        }
    }
}

pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    if args.with_password_hashes && args.kind != Kind::Staff {
        bail!("--with-password-hashes applies to `export staff` only");
    }
    let settings = Settings::load(&args.database, None)?;
    let db = open_database(&settings.database_url, false).await?;
    let app = App::new(Arc::clone(&db), AppConfig::default());
    let ctx = Ctx::system();
    let output: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(File::create(path).with_context(|| format!("creating {}", path.display()))?),
        None => Box::new(io::stdout().lock()),
    };
    let output = BufWriter::new(output);
    match args.kind {
        Kind::Regions => write(&app.export_regions(&ctx).await?, output),
        Kind::Stores => write(&app.export_stores(&ctx).await?, output),
        Kind::Staff => write(&app.export_staff(&ctx, args.with_password_hashes).await?, output),
        Kind::Skus => write(&app.export_skus(&ctx).await?, output),
    }?;
    db.close().await;
    Ok(())
}

fn write<R: CsvRow>(rows: &[R], output: impl Write) -> anyhow::Result<()> {
    write_rows(rows, output).context("writing CSV")
}

/// A database URL fit for logs: the password of `postgres://user:password@host` hidden.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub async fn rebuild_scores(args: RebuildScoresArgs) -> anyhow::Result<()> {
    let settings = Settings::load(&args.database, None)?;
    let db = open_database(&settings.database_url, true).await?;
    let app = App::new(db, AppConfig::default());
    let started = std::time::Instant::now();
    let scored = app.rebuild_scores(args.at.unwrap_or_else(chrono::Utc::now)).await;
    let took = started.elapsed();
    app.database().close().await;
    println!("scored {} customers in {:.2} s", scored?, took.as_secs_f64());
    Ok(())
}

pub async fn reconcile(args: DatabaseArgs) -> anyhow::Result<()> {
    let settings = Settings::load(&args, None)?;
    let db = open_database(&settings.database_url, true).await?;
    let app = App::new(db, AppConfig::default());
    let stock = app.reconcile_stock(&Ctx::system()).await?;
    let points = app.reconcile_points(&Ctx::system()).await?;
    let coupons = app.reconcile_coupons(&Ctx::system()).await?;
    let commissions = app.reconcile_commissions(&Ctx::system()).await?;
    let stored_value = app.reconcile_stored_value(&Ctx::system()).await?;
    app.database().close().await;
    for m in &stock {
        let (l, s) = (m.row.levels, m.ledger);
        println!(
            "store {} sku {}: on_hand {} vs ledger {}, reserved {} vs {}, committed {} vs {}, unavailable {} vs {}, \
             in_transit {} vs {}",
            m.row.store_id,
            m.row.sku_id,
            l.on_hand,
            s.on_hand,
            l.reserved,
            s.reserved,
            l.committed,
            s.committed,
            l.unavailable,
            s.unavailable,
            l.in_transit,
            s.in_transit
        );
    }
    for (customer, balance, ledger) in &points {
        println!("customer {customer}: points balance {balance} vs ledger {ledger}");
    }
    for m in &coupons {
        println!("{} {}: recorded {} vs ledger {}", m.what, m.id, m.recorded, m.from_ledger);
    }
    for m in &commissions {
        println!("promoter {}: commission balance {:?} vs ledger {:?}", m.promoter_id, m.balance, m.ledger);
    }
    for (customer, balance, ledger) in &stored_value {
        println!("customer {customer}: stored value {balance} vs ledger {ledger}");
    }
    let unsound = stock.len() + points.len() + coupons.len() + commissions.len() + stored_value.len();
    if unsound == 0 {
        println!(
            "ledgers sound: every stock level and every points, stored-value and commission balance equals the sum \
             of its ledger; every coupon's status is its last ledger entry"
        );
        return Ok(());
    }
    bail!(
        "{} stock row(s), {} points balance(s), {} coupon record(s), {} commission balance(s) and {} stored-value \
         balance(s) differ from their ledger",
        stock.len(),
        points.len(),
        coupons.len(),
        commissions.len(),
        stored_value.len()
    )
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(redact("postgres://q:secret@db:5432/q"), "postgres://q:***@db:5432/q");
        assert_eq!(redact("postgres://q@db/q"), "postgres://q@db/q");
        assert_eq!(redact("sqlite://quanyu-data/quanyu.db"), "sqlite://quanyu-data/quanyu.db");
    }
}
