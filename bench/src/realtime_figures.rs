//! Realtime figures, shared by the realtime bench and the resync bench (which prints them in
//! the same run as its own): change-to-SCIM latency with changes polled and pushed, and the
//! sustained rate of a burst, from a real slapd accesslog into a real scim2-server of their
//! own, next to that server's raw rates.
//!
//! Latency: one add at a time, from the moment slapd acknowledges it until the resource
//! answers a SCIM search (polled every 10 ms); first with changes polled (the source's
//! push-changes off), then pushed (syncrepl on the accesslog). Sustained: a burst of adds
//! written by one ldapmodify, from the first write until the last resource exists.

use crate::common;
use engine::startpoint::StartpointRequest;
use engine::sync::{RealtimeProgress, run_realtime};
use std::time::{Duration, Instant};
use test_support::*;

const TOKEN: &str = "bench-token";
const PIPE: &str = "LDAP to SCIM";

/// What to measure.
#[derive(clap::Args, Clone, Copy)]
pub struct RealtimeOptions {
    /// Adds measured one by one for latency (each way: polled, pushed).
    #[arg(long, default_value_t = 200)]
    pub latency_changes: u32,
    /// Adds written at once for the sustained rate.
    #[arg(long, default_value_t = 3_000)]
    pub burst: u32,
}

pub struct RealtimeFigures {
    threads: u32,
    post_rate: f64,
    get_rate: f64,
    polling_interval_ms: u64,
    latency_changes: u32,
    polled: Vec<Duration>,
    polled_pushes: bool,
    pushed: Vec<Duration>,
    pushes: bool,
    burst: u32,
    written: Duration,
    applied: Duration,
    rejected: u64,
    retries: u64,
}

/// Measures realtime sync with `threads` workers (and raw SCIM concurrency), against a slapd
/// and a scim2-server started for it.
pub async fn measure(options: RealtimeOptions, threads: u32) -> RealtimeFigures {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let mut config = fixture_config(&slapd.address(), &scim.base_url(), TOKEN);
    config["ldap-sources"][0]["batch-size"] = 500.into();
    config["sync-classes"][0]["include-base-dns"] = serde_json::json!([]);
    config["sync-pipes"][0]["worker-count"] = threads.into();
    let store = sqlite_store(&dir.path().join("realtime-bench.db")).await;
    store
        .replace_all(serde_json::from_value(config).unwrap())
        .await
        .unwrap();
    let config = store.load_config().await.unwrap();

    let (post_rate, get_rate) = common::raw_scim_rates(
        &scim.base_url(),
        TOKEN,
        threads,
        2_000,
        common::small_user("raw"),
    )
    .await;

    let (conn, mut ldap) = ldap3::LdapConnAsync::new(&format!("ldap://{}", slapd.address()))
        .await
        .unwrap();
    ldap3::drive!(conn);
    ldap.simple_bind(MANAGER_DN, MANAGER_PASSWORD)
        .await
        .unwrap()
        .success()
        .unwrap();
    let http = reqwest::Client::new();

    // Latency with changes polled (push turned off), then pushed: one change at a time.
    let mut polling = config.clone();
    polling.ldap_sources[0].push_changes = false;
    let run = Run::start(&store, &polling).await;
    let polled = latencies(
        &mut ldap,
        &http,
        &scim,
        &run.progress,
        options.latency_changes,
        "poll",
    )
    .await;
    let polled_pushes = run.stop().await.pushed;
    let run = Run::start(&store, &config).await;
    let pushed = latencies(
        &mut ldap,
        &http,
        &scim,
        &run.progress,
        options.latency_changes,
        "lat",
    )
    .await;
    let progress = run.progress.clone();

    // Sustained: a burst of adds, then wait for the last one.
    let ldif: String = (0..options.burst)
        .map(|i| add(&format!("burst{i}")))
        .collect();
    let before = progress.snapshot().counts.created;
    let started = Instant::now();
    slapd.modify(&ldif);
    let written = started.elapsed();
    let target = before + u64::from(options.burst);
    while progress.snapshot().counts.created < target {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "burst not applied: {:#?}",
            progress.snapshot()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let applied = started.elapsed();
    let status = run.stop().await;
    RealtimeFigures {
        threads,
        post_rate,
        get_rate,
        polling_interval_ms: config.sync_pipes[0].polling_interval_ms,
        latency_changes: options.latency_changes,
        polled,
        polled_pushes,
        pushed,
        pushes: status.pushed,
        burst: options.burst,
        written,
        applied,
        rejected: status.counts.rejected,
        retries: status.counts.retries,
    }
}

impl RealtimeFigures {
    pub fn print(&self) {
        println!("realtime (a slapd and a scim2-server of its own)");
        println!(
            "  SCIM POST /Users, {} concurrent                     {:>8.0} requests/s",
            self.threads, self.post_rate
        );
        println!(
            "  SCIM GET /Users?filter=userName eq …, {} concurrent  {:>8.0} requests/s",
            self.threads, self.get_rate
        );
        println!(
            "  ceiling for adds (1 GET + 1 POST each)               {:>8.0} changes/s",
            1.0 / (1.0 / self.get_rate + 1.0 / self.post_rate)
        );
        println!(
            "  change-to-SCIM latency, {} adds one at a time, {} ms polling interval",
            self.latency_changes, self.polling_interval_ms
        );
        for (how, latencies, pushes) in [
            ("polled", &self.polled, self.polled_pushes),
            ("pushed", &self.pushed, self.pushes),
        ] {
            println!(
                "    {how}: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (source pushing: {pushes})",
                percentile(latencies, 0.5).as_secs_f64() * 1e3,
                percentile(latencies, 0.99).as_secs_f64() * 1e3,
                latencies.last().unwrap().as_secs_f64() * 1e3
            );
        }
        println!(
            "  sustained, a burst of {} adds, pushed: written to LDAP in {:.1} s; all in SCIM after {:.1} s = {:.0} changes/s (rejected {}, destination retries {})",
            self.burst,
            self.written.as_secs_f64(),
            self.applied.as_secs_f64(),
            f64::from(self.burst) / self.applied.as_secs_f64(),
            self.rejected,
            self.retries
        );
    }
}

fn add(uid: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: Bench\n\n"
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Realtime sync of the pipe from the end of its changelog, with `config`.
struct Run {
    stop: tokio::sync::watch::Sender<bool>,
    progress: RealtimeProgress,
    task: tokio::task::JoinHandle<Result<(), engine::sync::RealtimeError>>,
}

impl Run {
    async fn start(store: &engine::store::Store, config: &engine::config::Config) -> Run {
        store.replace_all(config.clone()).await.unwrap();
        let config = store.load_config().await.unwrap();
        engine::sync::set_startpoint(store, &config, PIPE, StartpointRequest::EndOfChangelog)
            .await
            .unwrap();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let progress = RealtimeProgress::new(PIPE);
        let task = tokio::spawn(run_realtime(
            store.clone(),
            config,
            PIPE.into(),
            stopped,
            progress.clone(),
        ));
        Run {
            stop,
            progress,
            task,
        }
    }

    async fn stop(self) -> engine::sync::RealtimeStatus {
        self.stop.send(true).unwrap();
        self.task.await.unwrap().unwrap();
        self.progress.snapshot()
    }
}

/// Adds `count` entries one at a time; how long each took from slapd's acknowledgement until
/// the resource answered a SCIM search (polled every 10 ms), sorted.
async fn latencies(
    ldap: &mut ldap3::Ldap,
    http: &reqwest::Client,
    scim: &Scim2Server,
    progress: &RealtimeProgress,
    count: u32,
    prefix: &str,
) -> Vec<Duration> {
    let mut latencies = Vec::new();
    for i in 0..count {
        let uid = format!("{prefix}{i}");
        let attrs: Vec<(&str, std::collections::HashSet<&str>)> = vec![
            ("objectClass", ["inetOrgPerson"].into()),
            ("uid", [uid.as_str()].into()),
            ("cn", [uid.as_str()].into()),
            ("sn", ["Bench"].into()),
        ];
        ldap.add(&format!("uid={uid},ou=people,{SUFFIX}"), attrs)
            .await
            .unwrap()
            .success()
            .unwrap();
        let committed = Instant::now();
        loop {
            let found: serde_json::Value = http
                .get(format!("{}/Users", scim.base_url()))
                .bearer_auth(TOKEN)
                .query(&[("filter", format!("userName eq \"{uid}\""))])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if found["totalResults"] == 1 {
                latencies.push(committed.elapsed());
                break;
            }
            assert!(
                committed.elapsed() < Duration::from_secs(30),
                "{uid} never arrived: {:#?}",
                progress.snapshot()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    latencies.sort();
    latencies
}
