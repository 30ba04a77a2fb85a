//! Realtime benchmark: change-to-SCIM latency and sustained changes per second, from a real
//! slapd accesslog into a real scim2-server, next to the SCIM server's raw rates measured in
//! the same run (what is measured: realtime_figures.rs). The resync bench prints the same
//! figures after its own.
//!
//!     cargo run --profile server-release -p bench --bin realtime-bench -- --latency-changes 200 --burst 3000

mod common;
mod realtime_figures;

use clap::Parser;
use realtime_figures::RealtimeOptions;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    realtime: RealtimeOptions,
    /// Realtime workers, and the concurrency of the raw SCIM measurements.
    #[arg(long, default_value_t = 4)]
    threads: u32,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    println!(
        "scimsync realtime benchmark: {} workers, {} CPUs",
        args.threads,
        std::thread::available_parallelism().map_or(0, |p| p.get())
    );
    realtime_figures::measure(args.realtime, args.threads)
        .await
        .print();
    println!(
        "  peak resident memory of the benchmark process: {:.0} MB",
        common::memory_mb("VmHWM:")
    );
}
