//! Resync benchmark: N generated entries from a real slapd into a real scim2-server, printed
//! next to the raw limits of both servers measured in the same run.
//!
//!     cargo run --release -p bench --bin resync-bench -- --entries 100000 --threads 4
//!
//! Raw limits: a paged `ldapsearch` of the same entries and attributes; the same SCIM server
//! program's POST, filtered-GET and Bulk rates at the same concurrency, sending the resources
//! resync sends, on a service of their own; the Bulk rate of pass 1's own work (the same
//! creates into an empty service); and the paged list rate, of the attributes resync lists, of
//! the resources pass 1 created. Resync lists each endpoint once and writes in Bulk requests
//! where the server offers Bulk, so new entries compare with the Bulk rate and entries in sync
//! with the list rate. Then, with a slapd and a scim2-server of their own, the realtime
//! figures (realtime_figures.rs).
//!
//! With --zero-cost, the engine alone first: all created into a destination that costs
//! nothing, then all in sync with that destination listing every user (the index a real
//! listing builds, so its memory shows: --entries 1000000 --zero-cost --skip-scim
//! --skip-realtime is the million-entry memory check).

mod common;
mod realtime_figures;
mod zero_cost;

use clap::Parser;
use common::memory_mb;
use engine::config::Config;
use engine::mapping::correlation::listed_attributes;
use engine::mapping::{EndpointMapper, LdapEntry, Phase, Purpose};
use engine::store::Store;
use engine::sync::{PipePlan, ResyncOptions, ResyncProgress, run_resync, run_resync_planned};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use test_support::*;
use zero_cost::ZeroCost;

#[derive(Parser)]
struct Args {
    /// Entries in the directory.
    #[arg(long, default_value_t = 100_000)]
    entries: u32,
    /// Resync workers, and the concurrency of the raw SCIM measurements.
    #[arg(long, default_value_t = 4)]
    threads: u32,
    /// Requests for each raw SCIM measurement.
    #[arg(long, default_value_t = 3_000)]
    raw_requests: u32,
    /// Also resync into a destination that costs nothing (measures the engine alone).
    #[arg(long)]
    zero_cost: bool,
    /// Leave out the passes into scim2-server (with --zero-cost: the engine alone, quickly).
    #[arg(long)]
    skip_scim: bool,
    /// Leave out the realtime figures.
    #[arg(long)]
    skip_realtime: bool,
    #[command(flatten)]
    realtime: realtime_figures::RealtimeOptions,
}

/// A zero-cost pass: its counts, time, CPU seconds, resident memory before it, at each quarter
/// (MB) and the peak during the pass (MB).
struct ZeroCostPass {
    counts: engine::sync::ResyncCounts,
    time: Duration,
    cpu: f64,
    /// CPU seconds the destination itself spends generating its listing (measured apart, on
    /// its own), which `cpu` includes; `None` when it lists nothing.
    listing_cpu: Option<f64>,
    before: f64,
    quarters: Vec<f64>,
    peak: f64,
}

impl ZeroCostPass {
    async fn run(store: &Store, config: &Config, threads: u32, destination: ZeroCost) -> Self {
        let listing_cpu = destination.lists().then(|| {
            let cpu = common::cpu_seconds();
            destination.generate_listing();
            common::cpu_seconds() - cpu
        });
        let before = memory_mb("VmRSS:");
        common::reset_peak_memory();
        let cpu = common::cpu_seconds();
        let (counts, time, quarters) = resync_pass(store, config, threads, Some(destination)).await;
        ZeroCostPass {
            counts,
            time,
            cpu: common::cpu_seconds() - cpu,
            listing_cpu,
            before,
            quarters,
            peak: memory_mb("VmHWM:"),
        }
    }

    fn print(&self, what: &str, ldap_rate: f64) {
        let processed = self.counts.processed();
        let rate = processed as f64 / self.time.as_secs_f64();
        let per_entry = |cpu: f64| cpu * 1e6 / processed as f64;
        let listing = self.listing_cpu.map_or(String::new(), |listing| {
            format!(
                " ({:.0} µs of them the destination generating its listing, so {:.0} µs the engine)",
                per_entry(listing),
                per_entry(self.cpu - listing)
            )
        });
        println!(
            "  zero-cost destination, {what}: {processed:>7} entries in {:>6.1} s = {rate:>6.0} entries/s ({:.0}% of the LDAP read rate), {:.0} µs CPU per entry{listing}",
            self.time.as_secs_f64(),
            100.0 * rate / ldap_rate,
            per_entry(self.cpu)
        );
        println!("      paths: {}", self.counts.paths_text());
        println!(
            "      resident memory {:.0} MB before the pass; at 25/50/75/100 % {} MB, peak during the pass {:.0} MB",
            self.before,
            quarters_text(&self.quarters),
            self.peak
        );
    }
}

/// The two passes into scim2-server and what was measured between them.
struct ScimPasses {
    /// Peak resident memory during both passes (MB).
    peak: f64,
    /// The Bulk rate of pass 1's own work: the same resources created by a raw client into an
    /// empty service of its own, as pass 1 creates them into an empty one.
    bulk_rate_same_work: f64,
    first: engine::sync::ResyncCounts,
    first_time: Duration,
    /// Resident memory at each quarter of pass 1 (MB).
    quarters: Vec<f64>,
    bulk_rate_full: f64,
    list_rate: f64,
    second: engine::sync::ResyncCounts,
    second_time: Duration,
}

fn quarters_text(quarters: &[f64]) -> String {
    let quarters: Vec<String> = quarters.iter().map(|m| format!("{m:.0}")).collect();
    quarters.join("/")
}

const TOKEN: &str = "bench-token";
const PIPE: &str = "LDAP to SCIM";

/// The generated entry `i`: its DN and attributes.
fn entry_attributes(i: u32) -> (String, Vec<(&'static str, String)>) {
    let dn = format!("uid=user{i:06},ou=people,{SUFFIX}");
    let attributes = vec![
        ("objectClass", "inetOrgPerson".to_owned()),
        ("objectClass", "scimsyncTestUser".to_owned()),
        ("uid", format!("user{i:06}")),
        ("cn", format!("User {i:06}")),
        ("givenName", "User".to_owned()),
        ("sn", format!("Nr{i:06}")),
        ("departmentNumber", format!("D{}", i % 50)),
        ("businessCategory", format!("CC{}", i % 7)),
        ("testHireDate", "20240301083000+0100".to_owned()),
        ("employeeNumber", i.to_string()),
        ("postalAddress", format!("{i} Main St$Springfield")),
        ("testLocked", "FALSE".to_owned()),
        (
            "testEmailJSON",
            format!("{{\"value\":\"user{i:06}@example.com\",\"type\":\"work\",\"primary\":true}}"),
        ),
    ];
    (dn, attributes)
}

/// Entry `i` as LDIF.
fn entry(i: u32) -> String {
    let (dn, attributes) = entry_attributes(i);
    let mut ldif = format!("dn: {dn}\n");
    for (name, value) in attributes {
        ldif.push_str(&format!("{name}: {value}\n"));
    }
    ldif + "\n"
}

/// For the raw SCIM measurements: the resource resync creates for entry `first + n`, so the
/// service does the same work per resource as for resync's writes.
fn mapped_user(mapper: Arc<EndpointMapper>, first: u32) -> common::RawUser {
    Arc::new(move |n| {
        let (dn, attributes) = entry_attributes(first + n);
        let mut entry = LdapEntry::new(dn);
        for (name, value) in attributes {
            entry
                .attributes
                .entry(name.to_ascii_lowercase())
                .or_default()
                .push(value);
        }
        mapper
            .map(&entry, Purpose::Create, Phase::Resync, &Default::default())
            .expect("a generated entry maps")
            .resource
    })
}

/// Runs one resync; also returns the resident memory seen when each quarter of the entries was done.
async fn resync_pass(
    store: &Store,
    config: &Config,
    threads: u32,
    destination: Option<ZeroCost>,
) -> (engine::sync::ResyncCounts, Duration, Vec<f64>) {
    let started = Instant::now();
    let options = ResyncOptions {
        threads: Some(threads),
        ..Default::default()
    };
    let progress = ResyncProgress::default();
    let watcher = {
        let progress = progress.clone();
        tokio::spawn(async move {
            let mut quarters = Vec::new();
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let c = progress.snapshot();
                while c.expected > 0
                    && quarters.len() < 4
                    && c.processed() * 4 >= c.expected * (quarters.len() as u64 + 1)
                {
                    quarters.push(memory_mb("VmRSS:"));
                }
                if c.finished {
                    return quarters;
                }
            }
        })
    };
    // In a task of its own, as the console runs a resync.
    let (store, config, job_progress) = (store.clone(), config.clone(), progress.clone());
    let counts = tokio::spawn(async move {
        match destination {
            None => run_resync(&store, &config, PIPE, &options, &job_progress, Arc::new(())).await,
            Some(zero) => {
                let plan = PipePlan::build(&config, PIPE, store.cipher(), None)
                    .unwrap()
                    .with_destination(zero);
                run_resync_planned(&store, plan, &options, &job_progress, Arc::new(())).await
            }
        }
    })
    .await
    .expect("resync task")
    .expect("resync");
    let quarters = watcher.await.unwrap_or_default();
    (counts, started.elapsed(), quarters)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let n = args.entries;
    let dir = tempfile::tempdir().unwrap();
    println!(
        "scimsync resync benchmark: {n} entries, {} threads, {} CPUs",
        args.threads,
        std::thread::available_parallelism().map_or(0, |p| p.get())
    );

    let ldif = dir.path().join("entries.ldif");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&ldif).unwrap());
    for i in 0..n {
        file.write_all(entry(i).as_bytes()).unwrap();
    }
    file.flush().unwrap();
    drop(file);
    let started = Instant::now();
    let slapd = Slapd::start_with(Some(&ldif));
    println!(
        "  slapd loaded {n} entries in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let scim = Scim2Server::start(TOKEN);

    let mut config_json = fixture_config(&slapd.address(), &scim.base_url(), TOKEN);
    config_json["ldap-sources"][0]["batch-size"] = 500.into();
    let store = sqlite_store(&dir.path().join("bench.db")).await;
    store
        .replace_all(serde_json::from_value(config_json.clone()).unwrap())
        .await
        .unwrap();
    let config = store.load_config().await.unwrap();
    let plan = PipePlan::build(&config, PIPE, store.cipher(), None).unwrap();
    let attrs = plan.ldap_attributes();
    // What resync lists of each user: the raw list rate asks for the same.
    let users = plan
        .classes
        .iter()
        .filter_map(|c| c.mapper.clone())
        .find(|m| m.endpoint.endpoint_path == "Users")
        .expect("a Users endpoint");
    let listed = listed_attributes(&users);

    // Raw LDAP: the same subtree and attributes, paged, with OpenLDAP's own client.
    let attrs: Vec<&str> = attrs.iter().map(String::as_str).collect();
    let started = Instant::now();
    let read = count_as_sync_user(
        slapd.port,
        &format!("ou=people,{SUFFIX}"),
        "(objectClass=*)",
        &attrs,
    );
    assert!(read >= u64::from(n), "ldapsearch read {read} entries");
    let ldap_rate = f64::from(n) / started.elapsed().as_secs_f64();

    // Raw SCIM, the same server program, same concurrency: creates, then searches by
    // userName, then Bulk creates. On a service of their own, so that the one resync writes to
    // holds only the pipe's resources, as pass 2's listing and the raw list rate then find.
    let (post_rate, get_rate, bulk_rate) = {
        let samples = Scim2Server::start(TOKEN);
        let (post_rate, get_rate) = common::raw_scim_rates(
            &samples.base_url(),
            TOKEN,
            args.threads,
            args.raw_requests,
            mapped_user(users.clone(), 10_000_000),
        )
        .await;
        let bulk_rate = common::raw_bulk_rate(
            &samples.base_url(),
            TOKEN,
            args.threads,
            args.raw_requests * 2,
            500,
            mapped_user(users.clone(), 20_000_000),
        )
        .await;
        (post_rate, get_rate, bulk_rate)
    };
    let create_ceiling = 1.0 / (1.0 / get_rate + 1.0 / post_rate);

    // What keeping the log of changes costs: as many rows as entries, in the batches resync
    // writes, into a store of their own.
    let log_cost = {
        let store = sqlite_store(&dir.path().join("log-cost.db")).await;
        let row = |i: u32| engine::store::LoggedChange {
            id: String::new(),
            at: chrono::Utc::now(),
            pipe: PIPE.into(),
            phase: engine::rejection::Phase::Resync,
            dn: entry_attributes(i).0,
            endpoint: Some("Users".into()),
            resource_id: Some(format!("user{i:06}")),
            outcome: engine::report::ChangeOutcome::Created,
            summary: "POST with userName, name, displayName, emails, active".into(),
            duration_ms: 1,
        };
        let cpu = common::cpu_seconds();
        let started = Instant::now();
        let batch_rows = engine::store::BATCH_ROWS as u32;
        for first in (0..n).step_by(batch_rows as usize) {
            let batch: Vec<_> = (first..(first + batch_rows).min(n)).map(row).collect();
            store.log_changes(&batch).await.unwrap();
        }
        let time = started.elapsed();
        (time, common::cpu_seconds() - cpu)
    };

    // The engine alone: a store of its own, a destination that costs nothing.
    let zero = if args.zero_cost {
        // Its own key too: the configuration is given as written, not as sealed by the other.
        let store = sqlite_store(&dir.path().join("zero-cost.db")).await;
        store
            .replace_all(serde_json::from_value(config_json.clone()).unwrap())
            .await
            .unwrap();
        let config = store.load_config().await.unwrap();
        let created = ZeroCostPass::run(&store, &config, args.threads, ZeroCost::default()).await;
        assert_eq!(created.counts.created, u64::from(n), "{:?}", created.counts);
        let listing = ZeroCost::listing(u64::from(n), mapped_user(users.clone(), 0));
        let in_sync = ZeroCostPass::run(&store, &config, args.threads, listing).await;
        assert_eq!(in_sync.counts.in_sync, u64::from(n), "{:?}", in_sync.counts);
        Some((created, in_sync))
    } else {
        None
    };

    let mut rss_before = memory_mb("VmRSS:");
    let scim_passes = if args.skip_scim {
        None
    } else {
        // The service slows as it fills, so a short sample flatters it before pass 1 and
        // wrongs it after: the raw client does pass 1's whole work too.
        let bulk_rate_same_work = {
            let empty = Scim2Server::start(TOKEN);
            common::raw_bulk_rate(
                &empty.base_url(),
                TOKEN,
                args.threads,
                n,
                500,
                mapped_user(users.clone(), 0),
            )
            .await
        };
        rss_before = memory_mb("VmRSS:");
        common::reset_peak_memory();
        let (first, first_time, quarters) = resync_pass(&store, &config, args.threads, None).await;
        assert_eq!(first.created, u64::from(n), "{first:?}");
        // The same resources and attributes pass 2 lists: those pass 1 created.
        let list_rate = common::raw_list_rate(&scim.base_url(), TOKEN, &listed, 1000).await;
        let (second, second_time, _) = resync_pass(&store, &config, args.threads, None).await;
        assert_eq!(second.in_sync, u64::from(n), "{second:?}");
        let peak = memory_mb("VmHWM:");
        // Measured again on the full service: it slows as it fills.
        let bulk_rate_full = common::raw_bulk_rate(
            &scim.base_url(),
            TOKEN,
            args.threads,
            args.raw_requests * 2,
            500,
            mapped_user(users.clone(), 30_000_000),
        )
        .await;
        Some(ScimPasses {
            peak,
            bulk_rate_same_work,
            first,
            first_time,
            quarters,
            bulk_rate_full,
            list_rate,
            second,
            second_time,
        })
    };

    let per_s = |c: u64, d: Duration| c as f64 / d.as_secs_f64();
    println!("raw limits (measured in this run)");
    println!(
        "  LDAP paged read (ldapsearch, page 500, {} attributes) {ldap_rate:>10.0} entries/s",
        attrs.len()
    );
    println!(
        "  SCIM POST /Users, {} concurrent                     {post_rate:>10.0} requests/s",
        args.threads
    );
    println!(
        "  SCIM GET /Users?filter=userName eq …, {} concurrent  {get_rate:>10.0} requests/s",
        args.threads
    );
    println!(
        "  ceiling for new entries (1 GET + 1 POST each)        {create_ceiling:>10.0} entries/s"
    );
    println!(
        "  SCIM POST /Bulk, 500 creates each, {} concurrent     {bulk_rate:>10.0} operations/s",
        args.threads
    );
    println!(
        "  log of changes: {n} rows in batches of {}          {:>10.0} rows/s, {:.1} µs CPU per row",
        engine::store::BATCH_ROWS,
        f64::from(n) / log_cost.0.as_secs_f64(),
        log_cost.1 * 1e6 / f64::from(n)
    );
    println!("resync");
    if let Some((created, in_sync)) = &zero {
        created.print("all created", ldap_rate);
        in_sync.print("all in sync, listed", ldap_rate);
    }
    if let Some(ScimPasses {
        peak,
        bulk_rate_same_work,
        first,
        first_time,
        quarters,
        bulk_rate_full,
        list_rate,
        second,
        second_time,
    }) = scim_passes
    {
        let first_rate = per_s(first.processed(), first_time);
        let second_rate = per_s(second.processed(), second_time);
        println!(
            "  SCIM POST /Bulk as above, into the service holding pass 1's {n} resources {bulk_rate_full:>10.0} operations/s"
        );
        println!(
            "  SCIM GET /Users?attributes=<the {} resync lists>&count=1000, paged, pass 1's resources {list_rate:>10.0} resources/s",
            listed.len()
        );
        println!(
            "  SCIM POST /Bulk, the {n} creates of pass 1 into an empty service, 500 each, {} concurrent {bulk_rate_same_work:>10.0} operations/s",
            args.threads
        );
        println!(
            "  pass 1, all created:  {:>7} entries in {:>6.1} s = {first_rate:>6.0} entries/s ({:.2}× the Bulk rate of the same work; {:.2}× the sample on an empty service, {:.2}× on the full one; {:.0}% of the single-request ceiling)",
            first.processed(),
            first_time.as_secs_f64(),
            first_rate / bulk_rate_same_work,
            first_rate / bulk_rate,
            first_rate / bulk_rate_full,
            100.0 * first_rate / create_ceiling
        );
        println!("      paths: {}", first.paths_text());
        println!(
            "  pass 2, all in sync:  {:>7} entries in {:>6.1} s = {second_rate:>6.0} entries/s ({:.2}× the list rate, {:.0}% of the GET rate)",
            second.processed(),
            second_time.as_secs_f64(),
            second_rate / list_rate,
            100.0 * second_rate / get_rate
        );
        println!("      paths: {}", second.paths_text());
        println!(
            "  resident memory of the benchmark process: {rss_before:.0} MB before pass 1; at 25/50/75/100 % of it {} MB; peak during passes 1 and 2 {peak:.0} MB",
            quarters_text(&quarters)
        );
    }
    // Realtime on servers of its own, once these are gone.
    if !args.skip_realtime {
        drop((scim, slapd));
        realtime_figures::measure(args.realtime, args.threads)
            .await
            .print();
    }
}
