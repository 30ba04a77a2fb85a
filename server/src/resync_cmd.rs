//! `scimsync resync`: bulk synchronization of one pipe from the command line, with a live
//! progress line, a summary, and a failed-DNs file that `--source-input-file` accepts.
//!
//! Exit status: 0 when every in-scope entry is in sync, 3 when some were rejected, 1 when the
//! resync could not run.

use crate::cli::{InstanceArgs, ResyncArgs};
use crate::output::say;
use anyhow::Context;
use engine::sync::dn_list::{failed_dn_record, parse_dn_list};
use engine::sync::{
    EntryOutcome, EntryResult, ResyncCounts, ResyncObserver, ResyncOptions, ResyncProgress,
    run_resync,
};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub async fn run(instance: &InstanceArgs, args: ResyncArgs) -> anyhow::Result<ExitCode> {
    let dns = match &args.source_input_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let dns = parse_dn_list(&text)
                .with_context(|| format!("--source-input-file {}", path.display()))?;
            anyhow::ensure!(
                !dns.is_empty(),
                "--source-input-file {} holds no dn: lines",
                path.display()
            );
            Some(dns)
        }
        None => None,
    };
    let store = instance.open_store().await?;
    let config = store.load_config().await?;
    let options = ResyncOptions {
        dry_run: args.dry_run,
        filter: args.filter.clone(),
        dns,
        rate_per_second: args.rate_per_second,
        threads: args.threads,
        delete_missing: args.delete_missing,
    };
    let observer = Arc::new(CliObserver {
        dry_run: args.dry_run,
        failed_path: args.failed_dns_file.clone(),
        failed: Mutex::new(None),
    });
    let detail = options.summary();
    crate::instance::audit(
        &store,
        "start-resync",
        &format!("sync pipe \"{}\"", args.pipe),
        &detail,
    )
    .await;
    let progress = ResyncProgress::default();
    let started = Instant::now();
    let ticker = tokio::spawn(show_progress(progress.clone(), started));
    let result = run_resync(
        &store,
        &config,
        &args.pipe,
        &options,
        &progress,
        observer.clone(),
    )
    .await;
    ticker.abort();
    let _ = ticker.await;
    clear_progress_line();
    let counts = result.with_context(|| format!("resync of \"{}\"", args.pipe))?;
    print_summary(&args.pipe, &counts, started.elapsed(), args.dry_run);
    if observer.failed.lock().map(|f| f.is_some()).unwrap_or(false) {
        say!(
            "DNs that could not be synchronized: {} (use it with --source-input-file after fixing)",
            args.failed_dns_file.display()
        );
    }
    Ok(if counts.rejected > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

struct CliObserver {
    dry_run: bool,
    failed_path: PathBuf,
    failed: Mutex<Option<std::fs::File>>,
}

impl ResyncObserver for CliObserver {
    fn entry(&self, result: &EntryResult) {
        match &result.outcome {
            EntryOutcome::Rejected { rejection } => {
                clear_progress_line();
                eprintln!("rejected {}: {}", result.dn, rejection.reason);
                let mut file = self.failed.lock().expect("failed-DNs lock");
                if file.is_none() {
                    match std::fs::File::create(&self.failed_path) {
                        Ok(f) => *file = Some(f),
                        Err(e) => eprintln!("cannot write {}: {e}", self.failed_path.display()),
                    }
                }
                if let Some(f) = file.as_mut() {
                    let _ = f.write_all(failed_dn_record(&result.dn, &rejection.reason).as_bytes());
                }
            }
            EntryOutcome::Deleted | EntryOutcome::Deactivated | EntryOutcome::Held { .. } => {
                clear_progress_line();
                let resource = result
                    .resource
                    .as_ref()
                    .map(|r| format!(" ({} {})", r.endpoint, r.id))
                    .unwrap_or_default();
                let what = match (&result.outcome, self.dry_run) {
                    (EntryOutcome::Deleted, true) => "would delete".to_owned(),
                    (EntryOutcome::Deactivated, true) => "would deactivate".to_owned(),
                    (outcome, _) => outcome.describe(),
                };
                say!("missing {}{resource}: {what}", result.dn);
            }
            EntryOutcome::Created { resource } if self.dry_run => {
                clear_progress_line();
                say!("would create {}: {resource}", result.dn);
            }
            EntryOutcome::Modified { operations } if self.dry_run => {
                clear_progress_line();
                say!(
                    "would modify {}: {}",
                    result.dn,
                    serde_json::to_string(operations).unwrap_or_default()
                );
            }
            _ => {}
        }
    }
}

fn progress_line(c: &ResyncCounts, elapsed: Duration) -> String {
    let done = c.processed();
    let rate = done as f64 / elapsed.as_secs_f64().max(0.001);
    let shown = done.min(c.expected);
    let bar = match (
        (shown * 30).checked_div(c.expected),
        (shown * 100).checked_div(c.expected),
    ) {
        (Some(filled), Some(percent)) => {
            let filled = filled as usize;
            format!(
                "[{}{}] {percent:>3}% ",
                "#".repeat(filled),
                "-".repeat(30 - filled)
            )
        }
        _ => String::new(),
    };
    format!(
        "{bar}{done}/{} · created {} · modified {} · in sync {} · out of scope {} · rejected {} · {rate:.0}/s",
        c.expected, c.created, c.modified, c.in_sync, c.out_of_scope, c.rejected
    )
}

async fn show_progress(progress: ResyncProgress, started: Instant) {
    let tty = std::io::stderr().is_terminal();
    let every = if tty {
        Duration::from_millis(200)
    } else {
        Duration::from_secs(5)
    };
    loop {
        tokio::time::sleep(every).await;
        let line = progress_line(&progress.snapshot(), started.elapsed());
        if tty {
            crate::output::progress(format_args!("\r\x1b[2K{line}"));
        } else {
            crate::output::progress(format_args!("{line}\n"));
        }
    }
}

fn clear_progress_line() {
    if std::io::stderr().is_terminal() {
        crate::output::progress(format_args!("\r\x1b[2K"));
    }
}

fn print_summary(pipe: &str, c: &ResyncCounts, elapsed: Duration, dry_run: bool) {
    let verb = if dry_run {
        " (dry run: nothing was changed)"
    } else {
        ""
    };
    say!(
        "Resync of \"{pipe}\" completed in {:.1} s{verb}",
        elapsed.as_secs_f64()
    );
    let rows = [
        ("Source entries retrieved", c.retrieved),
        (
            if dry_run {
                "Entries that would be created"
            } else {
                "Entries created"
            },
            c.created,
        ),
        (
            if dry_run {
                "Entries that would be modified"
            } else {
                "Entries modified"
            },
            c.modified,
        ),
        ("Entries already in sync", c.in_sync),
        ("Entries out of scope", c.out_of_scope),
        ("Entries not synchronized by their class", c.skipped),
        ("Entries rejected", c.rejected),
        (
            if dry_run {
                "Missing: resources that would be deleted"
            } else {
                "Missing: resources deleted"
            },
            c.deleted,
        ),
        (
            if dry_run {
                "Missing: would be deactivated"
            } else {
                "Missing: resources deactivated"
            },
            c.deactivated,
        ),
        ("Missing: deletes held by the limit", c.held),
        ("Members added", c.members_added),
        ("Members removed", c.members_removed),
        (
            "Referenced DNs outside every class",
            c.references_out_of_scope,
        ),
        (
            "References written without their target",
            c.references_pending,
        ),
    ];
    for (label, n) in rows {
        say!("  {label:<40} {n:>10}");
    }
    say!(
        "  {:<40} {:>10.0}",
        "Entries per second",
        c.processed() as f64 / elapsed.as_secs_f64().max(0.001)
    );
    say!("  Paths: {}", c.paths_text());
}
