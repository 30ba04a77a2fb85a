//! `scimsync log`: the log of changes, newest first, as a table or JSON lines.

use crate::cli::{InstanceArgs, LogArgs};
use engine::report::ChangeOutcome;
use engine::store::SyncLogFilter;
use std::process::ExitCode;

pub async fn run(instance: &InstanceArgs, args: LogArgs) -> anyhow::Result<ExitCode> {
    let filter = filter(&args)?;
    let store = instance.open_store().await?;
    let changes = store.logged_changes(&filter).await?;
    if args.json {
        for c in &changes {
            println!("{}", serde_json::to_string(c)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if changes.is_empty() {
        println!("No logged changes.");
    }
    for c in &changes {
        let resource = match (&c.endpoint, &c.resource_id) {
            (Some(endpoint), Some(id)) => format!("  {endpoint}/{id}"),
            _ => String::new(),
        };
        println!(
            "{}  {}  {:<8} {:<12} {:>5} ms  {}{resource}\n    {}",
            c.at.format("%Y-%m-%d %H:%M:%S%.3f"),
            c.pipe,
            c.phase,
            c.outcome,
            c.duration_ms,
            c.dn,
            c.summary
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn filter(args: &LogArgs) -> anyhow::Result<SyncLogFilter> {
    let outcome = match &args.outcome {
        Some(o) => Some(ChangeOutcome::parse(o).ok_or_else(|| {
            let known: Vec<&str> = ChangeOutcome::ALL.iter().map(|o| o.as_str()).collect();
            anyhow::anyhow!(
                "--outcome \"{o}\" is not an outcome (use one of: {})",
                known.join(", ")
            )
        })?),
        None => None,
    };
    let since = match &args.since {
        Some(t) => Some(engine::startpoint::parse_time(t).ok_or_else(|| {
            anyhow::anyhow!(
                "--since \"{t}\" is not a time (use 2026-11-23T10:00:00Z or \"2026-11-23 10:00\", UTC)"
            )
        })?),
        None => None,
    };
    Ok(SyncLogFilter {
        pipe: args.pipe.clone(),
        dn: args.dn.clone(),
        outcome,
        since,
        before: None,
        limit: args.limit,
    })
}
