//! The command line as clap parses it: every command, flag and help text of `quanyu`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "quanyu",
    version,
    about = "Quanyu (全域): the operating system of an omnichannel retail chain",
    long_about = "Quanyu (全域): the operating system of an omnichannel retail chain.\n\n\
        Settings are layered: built-in defaults, then a TOML file (`quanyu.toml` in the working \
        directory, or --config FILE), then environment variables QUANYU_DATABASE_URL, \
        QUANYU_BIND, QUANYU_AUDIENCE_SHARDS and QUANYU_BOOKING_HORIZON_DAYS (how many days ahead an \
        order may promise its time, 1-366, default 30), then flags. Logging follows RUST_LOG (default \
        `info`), on stderr."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve the HTTP API until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Apply pending database migrations and list the ones applied.
    Migrate(DatabaseArgs),
    /// Seed a fictional chain into a local SQLite database (once) and serve it.
    #[command(long_about = "Seed a fictional chain into a local SQLite database and serve it.\n\n\
        The first run creates DIR/quanyu.db and seeds, deterministically from --seed, a chain of \
        3 regions, 60 stores in Shanghai, Hangzhou and Suzhou, staff in every role, ~40 brands, a \
        category tree and ~2,000 SKUs, coupon templates and promotions, and --members members with a \
        year of orders, points, tiers and coupons. Later runs on the same DIR find the chain and only serve. \
        Every demo login uses the password `quanyu-demo`.")]
    Demo(DemoArgs),
    /// Import regions, stores, staff or SKUs from a CSV file: all rows or none.
    #[command(long_about = IMPORT_HELP)]
    Import(ImportArgs),
    /// Export regions, stores, staff or SKUs as CSV, in the layout `import` reads.
    Export(ExportArgs),
    /// Prove the stock books: every stock level against the sum of its ledger; exit status 1 on
    /// any difference.
    Reconcile(DatabaseArgs),
    /// Customer scores (RFM and lifecycle stages).
    #[command(subcommand)]
    Scores(ScoresCommand),
    /// Benchmarks: drive a workload against a database and print what it measured.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Write the deterministic synthetic population of the customer-data benchmarks (members,
    /// tags, attributes, orders) as little-endian column files plus manifest.json.
    BenchData(BenchDataArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BenchDataArgs {
    /// Directory to write (created if missing; files in it are replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Seed: the same arguments give byte-identical files.
    #[arg(long, value_name = "N", default_value_t = 2026)]
    pub seed: u64,
    /// Members (ordinals 0..N).
    #[arg(long, value_name = "N", default_value_t = 40_000_000)]
    pub members: u64,
    /// Tags, with Zipf-like popularity (tag 0 the most popular).
    #[arg(long, value_name = "N", default_value_t = 3_000)]
    pub tags: u64,
    /// Average tags per member.
    #[arg(long, value_name = "X", default_value_t = 80.0)]
    pub tags_per_member: f64,
    /// Stores members call home (spread over 3 regions).
    #[arg(long, value_name = "N", default_value_t = 60)]
    pub stores: usize,
    /// Customers the orders belong to (ordinals 0..N).
    #[arg(long, value_name = "N", default_value_t = 10_000_000)]
    pub customers: u64,
    /// Paid orders, one row each.
    #[arg(long, value_name = "N", default_value_t = 100_000_000)]
    pub order_lines: u64,
    /// Threads to generate with [default: the available cores]; the files do not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

#[derive(Debug, Args)]
pub struct AudienceBenchArgs {
    /// A directory written by `quanyu bench-data`.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Expressions to count, one per line as `name<TAB>expression` (`#` starts a comment line).
    #[arg(long, value_name = "FILE")]
    pub expressions: PathBuf,
    /// Timed runs of each expression, after the warm-up runs.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub repeat: usize,
    /// Untimed runs of each expression first.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub warmup: usize,
    /// Threads to load the index with [default: the available cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Cut the index by ordinal range into this many shards, counted on one thread each (as the
    /// product does, one per core by default; 1: unsharded).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub shards: usize,
    /// Then rank the members most like each of these expressions' members (lookalike), by the
    /// first word of their names (`3b,10a`), timing each.
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub lookalike_seeds: Vec<String>,
    /// How many members each lookalike ranks.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub lookalike_limit: usize,
    /// Timed runs of each lookalike (after one untimed run).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub lookalike_repeat: usize,
}

#[derive(Debug, Args)]
pub struct RfmBenchArgs {
    /// A directory written by `quanyu bench-data`.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Timed full rebuilds.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub repeat: usize,
    /// Threads to rebuild with [default: the available cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Write each customer's scores here (`score_r.u8`, `score_f.u8`, `score_m.u8`,
    /// `score_stage.u8`, `score_orders.u32`, `score_spend.u64`), for the peers to compare.
    #[arg(long, value_name = "DIR")]
    pub scores_out: Option<PathBuf>,
    /// Orders to apply one at a time for the incremental measurement.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub incremental: usize,
}

#[derive(Debug, Args)]
pub struct AudienceFollowBenchArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The night to rescore as (RFC 3339), after the one the database was scored as.
    #[arg(long, value_name = "TIME")]
    pub night: chrono::DateTime<chrono::Utc>,
    /// Members given points (one entry each, through the use case) before the first catch-up.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    pub touch: usize,
}

#[derive(Debug, Subcommand)]
pub enum ScoresCommand {
    /// Rescore every live customer from their orders now (what the server does nightly), and
    /// print how many were scored and how long it took.
    Rebuild(RebuildScoresArgs),
}

#[derive(Debug, Args)]
pub struct RebuildScoresArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Score as of this instant (RFC 3339, e.g. 2025-12-04T00:00:00Z) instead of now: to replay
    /// a night, or to benchmark on a generated history.
    #[arg(long, value_name = "TIME")]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Flash-sale reservations on one hot SKU: seeds a store, stock and a sale, then reserves
    /// through the batched engine from many concurrent tasks (in process), or with `--seed-only`
    /// prints `{"sale_id","token","port"}` for an HTTP load generator to use.
    FlashSale(FlashSaleBenchArgs),
    /// Nearest-store search: the R-tree against a linear scan over the same random stores
    /// scattered across China, in process.
    Nearest(NearestBenchArgs),
    /// Audience counts: loads the real audience index from `bench-data` files and times the
    /// real parser and evaluator on each expression (p50/p95 warm), in process.
    Audience(AudienceBenchArgs),
    /// RFM + lifecycle full rebuild of every customer from `bench-data` order columns, and the
    /// per-order incremental step, in process.
    Rfm(RfmBenchArgs),
    /// How the product's audience index follows the database: reads it whole (the first
    /// count), then times catching up with the log of changes after points given to some members
    /// and after a night's scores rebuild, and checks the caught-up index counts what one read
    /// whole again counts. In process, on a scored database (`quanyu scores rebuild` first).
    AudienceFollow(AudienceFollowBenchArgs),
}

#[derive(Debug, Args)]
pub struct NearestBenchArgs {
    /// Stores to scatter.
    #[arg(long, default_value_t = 5_000)]
    pub stores: usize,
    /// Searches to time.
    #[arg(long, default_value_t = 20_000)]
    pub queries: usize,
    /// Stores each search returns.
    #[arg(long, default_value_t = 10)]
    pub take: usize,
}

#[derive(Debug, Args)]
pub struct FlashSaleBenchArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Reservations to make (also the stock and the quota).
    #[arg(long, default_value_t = 100_000)]
    pub requests: u64,
    /// Concurrent buyers.
    #[arg(long, default_value_t = 256)]
    pub concurrency: u64,
    /// Only seed, print the sale id and an API token as JSON, and exit.
    #[arg(long)]
    pub seed_only: bool,
}

/// Where the database is: `--database`, else the layered settings.
#[derive(Debug, Clone, Default, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH` or `postgres://USER:PASS@HOST/DB` [default: sqlite://quanyu-data/quanyu.db]
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// A TOML settings file (keys `database_url`, `bind`, `audience_shards`, `booking_horizon_days`)
    /// [default: quanyu.toml if present]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Port to serve on, at 127.0.0.1.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Directory of the demo database (created if missing).
    #[arg(long, value_name = "DIR", default_value = "quanyu-demo")]
    pub data: PathBuf,
    /// Seed of the generated chain: the same seed gives the same chain.
    #[arg(long, value_name = "N", default_value_t = 2026)]
    pub seed: u64,
    /// Members to seed, each with a year of orders (fewer seed faster).
    #[arg(long, value_name = "N", default_value_t = crate::demo_members::DEMO_MEMBERS)]
    pub members: usize,
    /// Seed (if needed) and exit without serving, for scripts and tests.
    #[arg(long)]
    pub no_serve: bool,
}

/// What a CSV file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Regions,
    Stores,
    Staff,
    Skus,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What the file holds.
    pub kind: Kind,
    /// The CSV file, UTF-8, with a header row.
    pub file: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export.
    pub kind: Kind,
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Staff only: fill the password_hash column with each stored argon2 hash, so the file can
    /// be imported into another deployment with working logins. Keep such a file secret.
    #[arg(long)]
    pub with_password_hashes: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

const IMPORT_HELP: &str = "\
Import regions, stores, staff or SKUs from a CSV file (UTF-8, comma-separated, with a header row;
columns in any order; a column marked * is required, the others may be left out or empty).

Every row is checked first: each value, duplicates inside the file, and references and
uniqueness against the database. If any row is bad, every problem is listed by line
(`line 7, field barcode: …`, the header being line 1), nothing is written, and the exit
status is 1. Otherwise all rows are written in one transaction, each with an audit entry.
Entities reference each other by code or name, never by id. `export` writes the same layout.

regions: code*, name*

stores: code*, name*, region* (a region code), address*, lat*, lng* (GCJ-02 degrees),
  area_m2* (sales floor, m²), opening_hours (HH:MM-HH:MM, default 08:00-22:00),
  time_zone (IANA, default the chain's), delivery_radius_m (default 3000), phone,
  status (open | paused | closed, default open)

staff: username*, display_name*, role* (hq_admin | hq_ops | region_manager | store_manager |
  cashier | guide | picker | courier), region (a region code: region managers),
  store (a store code: store roles), phone (11-digit mobile), status (active | disabled),
  password (plaintext, 8+ characters, hashed on import) or password_hash (an argon2 PHC
  string, as `export staff --with-password-hashes` writes): exactly one of the two

skus: product*, category* (a path of names from the root: 生鲜/水果), code*, name* (the
  variant, e.g. 500g 盒装), unit* (个, 盒, kg…), base_price* (yuan: 12.30), brand, kind
  (standard | fresh | made_to_order | service), barcode (GTIN with check digit, or 4-32
  letters and digits), sold_by_weight (true | false: prices then are per kg), attributes
  (key=value; key=value), images (URLs separated by spaces), store_price, online_price,
  member_price, cost_price (yuan), online_only (true | false), status (active | inactive)
  Rows with the same product are variants of one product. A product named in the file that
  does not exist is created with the category, brand and kind of its first row; one that
  exists gets the new SKUs (its category, brand and kind columns are then not used). Missing
  categories and brands are created.";
