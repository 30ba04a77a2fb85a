//! `scimsync rejections list | show | retry | dismiss`.

use crate::cli::{InstanceArgs, RejectionAction, RejectionSelect};
use crate::output::say;
use engine::rejection::RejectionStatus;
use engine::store::{RejectionFilter, Store};
use engine::sync::{EntryOutcome, Rejection};
use std::process::ExitCode;

pub async fn run(instance: &InstanceArgs, action: RejectionAction) -> anyhow::Result<ExitCode> {
    let store = instance.open_store().await?;
    match action {
        RejectionAction::List(select) => {
            let list = store.find_rejections(&filter(&select)?).await?;
            if list.is_empty() {
                say!("No open rejected operations.");
            }
            for r in &list {
                say!(
                    "{}  {}  {}  {:<7} {:<7} {}\n    {}",
                    r.id,
                    r.created_at.format("%Y-%m-%d %H:%M:%S"),
                    r.pipe,
                    r.phase,
                    r.operation,
                    r.dn,
                    r.reason
                );
            }
        }
        RejectionAction::Show { id } => {
            let (r, status) = store
                .rejection(&id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("there is no rejected operation {id}"))?;
            print_one(&r, &status);
            let waiting = store.pending_referrers(&r.pipe, &r.dn).await?;
            if !waiting.is_empty() {
                say!("waiting for this entry (their references to it are pending)");
                for dn in waiting {
                    say!("  {dn}");
                }
            }
        }
        RejectionAction::Retry { id, all, select } => {
            let config = store.load_config().await?;
            let mut failed = 0;
            for id in ids(&store, id, all, &select).await? {
                crate::instance::audit(&store, "retry", &format!("rejected operation {id}"), "")
                    .await;
                let result = engine::sync::retry_rejection(&store, &config, &id).await?;
                match &result.outcome {
                    EntryOutcome::Rejected { rejection }
                    | EntryOutcome::Unavailable { rejection, .. } => {
                        failed += 1;
                        say!("{id} {}: rejected again: {}", result.dn, rejection.reason);
                    }
                    outcome => say!("{id} {}: {}", result.dn, outcome.describe()),
                }
            }
            return Ok(if failed > 0 {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            });
        }
        RejectionAction::Dismiss { id, all, select } => {
            for id in ids(&store, id, all, &select).await? {
                if store
                    .close_rejection(&id, RejectionStatus::Dismissed)
                    .await?
                {
                    crate::instance::audit(
                        &store,
                        "dismiss",
                        &format!("rejected operation {id}"),
                        "",
                    )
                    .await;
                    say!("{id} dismissed");
                } else {
                    say!("{id} was not open");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn filter(s: &RejectionSelect) -> anyhow::Result<RejectionFilter> {
    let since = match &s.since {
        Some(t) => {
            Some(engine::startpoint::parse_time_of("--since", t).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    Ok(RejectionFilter {
        pipe: s.pipe.clone(),
        dn: s.dn.clone(),
        reason: s.reason.clone(),
        since,
        limit: s.limit,
    })
}

async fn ids(
    store: &Store,
    id: Option<String>,
    all: bool,
    select: &RejectionSelect,
) -> anyhow::Result<Vec<String>> {
    Ok(match (id, all) {
        (Some(id), _) => vec![id],
        (None, true) => store
            .find_rejections(&filter(select)?)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect(),
        (None, false) => unreachable!("clap requires an id or --all"),
    })
}

fn print_one(r: &Rejection, status: &RejectionStatus) {
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    say!(
        "id         {}\nstatus     {status}\npipe       {}\nphase      {}\nentry      {}\noperation  {}\nwhen       {}\nreason     {}",
        r.id,
        r.pipe,
        r.phase,
        r.dn,
        r.operation,
        r.created_at.to_rfc3339(),
        r.reason
    );
    say!("source\n{}", pretty(&r.source));
    if let Some(q) = &r.request {
        say!(
            "SCIM request\n{} {}\n{}",
            q.method,
            q.url,
            q.body.as_ref().map(pretty).unwrap_or_default()
        );
    }
    if let Some(resp) = &r.response {
        say!("SCIM response\n{}", pretty(resp));
    }
}
