//! `quanyu`: parses the command line, sets up logging and the async runtime, runs the command,
//! and turns a failure into a message on stderr and exit status 1.

use std::process::ExitCode;

use clap::Parser;
use quanyu::args::Cli;
use tracing_subscriber::EnvFilter;

/// jemalloc rather than the C library's malloc: the request path of the HTTP server allocates and
/// frees small objects on two threads at a high rate, where glibc's arenas spent a fifth of the
/// server's CPU (measured in bench/RESULTS.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: starting the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(quanyu::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
