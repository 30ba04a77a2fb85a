//! `scimsync realtime-sync set-startpoint | start | stop | status`.
//!
//! Start and stop record what should run; the `scimsync serve` process using the same store
//! runs it. Status shows what that process last reported.

use crate::cli::{InstanceArgs, RealtimeAction, StartpointArgs};
use crate::output::say;
use engine::startpoint::StartpointRequest;
use engine::sync::RealtimeStatus;
use std::process::ExitCode;

pub async fn run(instance: &InstanceArgs, action: RealtimeAction) -> anyhow::Result<ExitCode> {
    let store = instance.open_store().await?;
    let config = store.load_config().await?;
    let known = |pipe: &str| -> anyhow::Result<()> {
        anyhow::ensure!(
            config.sync_pipes.iter().any(|p| p.name == pipe),
            "there is no sync pipe named \"{pipe}\""
        );
        Ok(())
    };
    match action {
        RealtimeAction::SetStartpoint { pipe, position } => {
            let request = request(&position)?;
            let startpoint = engine::sync::set_startpoint(&store, &config, &pipe, request)
                .await
                .map_err(anyhow::Error::msg)?;
            let detail = format!("{}: {}", startpoint.request, startpoint.cursor);
            crate::instance::audit(
                &store,
                "set-startpoint",
                &format!("sync pipe \"{pipe}\""),
                &detail,
            )
            .await;
            say!(
                "The startpoint of \"{pipe}\" is set: {}: {}",
                startpoint.request,
                startpoint.cursor
            );
        }
        RealtimeAction::Start { pipe } => {
            known(&pipe)?;
            anyhow::ensure!(
                store.realtime_cursor(&pipe).await?.is_some(),
                "no startpoint is set for \"{pipe}\": run `scimsync realtime-sync set-startpoint --pipe \"{pipe}\" …` first"
            );
            store.set_realtime_started(&pipe, true).await?;
            crate::instance::audit(
                &store,
                "start-realtime",
                &format!("sync pipe \"{pipe}\""),
                "",
            )
            .await;
            say!(
                "Realtime sync of \"{pipe}\" is started; `scimsync serve` runs it (see `scimsync realtime-sync status`)."
            );
        }
        RealtimeAction::Stop { pipe } => {
            known(&pipe)?;
            store.set_realtime_started(&pipe, false).await?;
            crate::instance::audit(
                &store,
                "stop-realtime",
                &format!("sync pipe \"{pipe}\""),
                "",
            )
            .await;
            say!("Realtime sync of \"{pipe}\" is stopped.");
        }
        RealtimeAction::Status { pipe } => {
            if let Some(p) = &pipe {
                known(p)?;
            }
            for p in config
                .sync_pipes
                .iter()
                .filter(|p| pipe.as_ref().is_none_or(|n| n == &p.name))
            {
                let (started, status, at) = store.realtime_state(&p.name).await?;
                print_status(
                    &p.name,
                    started,
                    status.and_then(|s| serde_json::from_value(s).ok()),
                    at,
                );
                match store.lease_holder(&p.name).await? {
                    Some(holder) => say!("  runs on      {holder}"),
                    None if started => {
                        say!("  runs on      no instance (none holds its lease)")
                    }
                    None => {}
                }
                print_pending(&store, &p.name).await?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn request(args: &StartpointArgs) -> anyhow::Result<StartpointRequest> {
    Ok(if args.end_of_changelog {
        StartpointRequest::EndOfChangelog
    } else if args.beginning_of_changelog {
        StartpointRequest::BeginningOfChangelog
    } else if let Some(n) = args.change_number {
        StartpointRequest::ChangeNumber { change_number: n }
    } else if let Some(t) = &args.startpoint_time {
        let time = engine::startpoint::parse_time_of("--startpoint-time", t)
            .map_err(anyhow::Error::msg)?;
        StartpointRequest::Time { time }
    } else {
        unreachable!("clap requires one position")
    })
}

/// The pipe's pending references: the count, and the oldest few.
async fn print_pending(store: &engine::store::Store, pipe: &str) -> anyhow::Result<()> {
    const SHOWN: u32 = 10;
    let count = store.pending_reference_count(pipe).await?;
    say!("  pending      {count} references wait for their target");
    for r in store.pending_references(pipe, None, SHOWN).await? {
        say!(
            "    {} ({}) waits for {} since {}",
            r.referrer_dn,
            r.reference.mapping,
            r.reference.dn,
            r.created_at
        );
    }
    if count > u64::from(SHOWN) {
        say!("    … and {} more", count - u64::from(SHOWN));
    }
    Ok(())
}

fn print_status(
    pipe: &str,
    started: bool,
    status: Option<RealtimeStatus>,
    reported: Option<String>,
) {
    say!("{pipe}: {}", if started { "started" } else { "stopped" });
    let Some(s) = status else {
        say!("  no status reported yet");
        return;
    };
    let state = s.state;
    say!(
        "  state        {state} (reported {})",
        reported.unwrap_or_default()
    );
    let stale = chrono::Utc::now() - s.updated_at;
    if started && stale > chrono::Duration::seconds(10) {
        say!(
            "  warning      no running `scimsync serve` has reported for {} s",
            stale.num_seconds()
        );
    }
    say!("  cursor       {}", s.cursor.as_deref().unwrap_or("-"));
    if let Some(b) = s.backlog_text() {
        say!("  backlog      {b}");
    }
    say!("  new changes  {}", s.arrival_text());
    let c = s.counts;
    say!(
        "  changes      {} (created {}, modified {}, deleted {}, in sync {}, out of scope {}, skipped {}, dropped {}, rejected {})",
        c.changes,
        c.created,
        c.modified,
        c.deleted,
        c.in_sync,
        c.out_of_scope,
        c.skipped,
        c.dropped,
        c.rejected
    );
    say!(
        "  members      {} added, {} removed; {} referenced DNs outside every class",
        c.members_added,
        c.members_removed,
        c.references_out_of_scope
    );
    say!("  rate         {:.1} changes/s", s.ops_per_second);
    if let Some(e) = s.last_error {
        match s.last_error_at {
            Some(at) => say!(
                "  last error   {e} (at {})",
                at.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            None => say!("  last error   {e}"),
        }
    }
}
