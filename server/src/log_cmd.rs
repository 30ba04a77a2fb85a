//! `scimsync log`: the log of changes, newest first, as a table or JSON lines.

use crate::cli::{InstanceArgs, LogArgs};
use crate::output::say;
use engine::store::SyncLogFilter;
use std::process::ExitCode;

pub async fn run(instance: &InstanceArgs, args: LogArgs) -> anyhow::Result<ExitCode> {
    let filter = filter(&args)?;
    let store = instance.open_store().await?;
    let changes = store.logged_changes(&filter).await?;
    if args.json {
        for c in &changes {
            say!("{}", serde_json::to_string(c)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if changes.is_empty() {
        say!("No logged changes.");
    }
    for c in &changes {
        let resource = match (&c.endpoint, &c.resource_id) {
            (Some(endpoint), Some(id)) => format!("  {endpoint}/{id}"),
            _ => String::new(),
        };
        say!(
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
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    SyncLogFilter::from_text(
        "--",
        &text(&args.pipe),
        &text(&args.dn),
        &text(&args.outcome),
        &text(&args.since),
        args.limit,
    )
    .map_err(anyhow::Error::msg)
}
