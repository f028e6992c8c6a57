//! The `quanyu` binary's library: command-line parsing, layered settings, CSV layouts, the demo
//! chain generator, the benchmarks' data generator and the commands themselves (`serve`, `migrate`, `demo`,
//! `import`, `export`, `reconcile`, `bench`, `bench-data`).
//!
//! This is the only crate where `anyhow` reaches `main`: errors from the layers below arrive
//! typed and leave here as one message with its cause chain and a non-zero exit status. It holds
//! no business rules: validation and writes are the use cases of `quanyu_app` (its `import`
//! module included); this crate reads and writes files, parses flags and prints.

pub mod args;
pub mod bench;
pub mod bench_audience;
pub mod bench_audience_follow;
pub mod bench_data;
pub mod bench_rfm;
pub mod commands;
pub mod config;
pub mod csv_io;
pub mod demo;
pub mod demo_data;
pub mod demo_marketing;
pub mod demo_members;
pub mod demo_stock;
pub mod demo_wallets;
pub mod rng;
pub mod seeding;

use args::{Cli, Command};

/// Runs one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => commands::serve(args).await,
        Command::Migrate(args) => commands::migrate(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Import(args) => commands::import(args).await,
        Command::Export(args) => commands::export(args).await,
        Command::Reconcile(args) => commands::reconcile(args).await,
        Command::Scores(args::ScoresCommand::Rebuild(args)) => commands::rebuild_scores(args).await,
        Command::Bench(args::BenchCommand::FlashSale(args)) => bench::flash_sale(args).await,
        Command::Bench(args::BenchCommand::Nearest(args)) => bench::nearest(&args),
        Command::Bench(args::BenchCommand::Audience(args)) => bench_audience::run(&args),
        Command::Bench(args::BenchCommand::Rfm(args)) => bench_rfm::run(&args),
        Command::Bench(args::BenchCommand::AudienceFollow(args)) => bench_audience_follow::run(args).await,
        Command::BenchData(args) => bench_data::run(&args),
    }
}
