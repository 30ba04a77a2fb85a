//! Step 10: starting resyncs and reading their status and rejections.

use crate::model::*;
use leptos::prelude::*;

/// A rejection as shown, with the entries waiting for it (their references to it are pending).
#[cfg(feature = "ssr")]
pub(crate) async fn rejection_view(
    store: &engine::store::Store,
    r: engine::sync::Rejection,
) -> Result<RejectionView, engine::store::StoreError> {
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let waiting = store.pending_referrers(&r.pipe, &r.dn).await?;
    Ok(RejectionView {
        dn: r.dn,
        operation: r.operation,
        reason: r.reason,
        created_at: crate::model::readable_at(&r.created_at),
        source: pretty(&r.source),
        request: r.request.map(|q| {
            format!(
                "{} {}\n{}",
                q.method,
                q.url,
                q.body.as_ref().map(pretty).unwrap_or_default()
            )
        }),
        response: r.response.as_ref().map(pretty),
        waiting,
    })
}

/// Every pipe with its current or last resync and its newest rejected operations.
#[server]
pub async fn resync_pipes() -> Result<Vec<PipeResync>, ServerFnError> {
    use super::ssr::{fail, state};
    let st = state()?;
    let config = st.store.load_config().await.map_err(fail)?;
    let mut last_runs = st.store.last_resync_runs().await.map_err(fail)?;
    let mut out = Vec::new();
    for p in &config.sync_pipes {
        let last = st
            .resyncs
            .status(&p.name)
            .or_else(|| last_runs.remove(&p.name));
        let mut rejections = Vec::new();
        for r in st.store.rejections(Some(&p.name), 20).await.map_err(fail)? {
            rejections.push(rejection_view(&st.store, r).await.map_err(fail)?);
        }
        out.push(PipeResync {
            pipe: p.name.clone(),
            source: p.source.clone(),
            destination: p.destination.clone(),
            last,
            rejections,
            pending: super::realtime::pending_references(&st, &p.name)
                .await
                .map_err(fail)?,
        });
    }
    Ok(out)
}

/// Starts a resync in the background; its progress arrives on /api/resync/events.
#[server]
pub async fn start_resync(
    pipe: String,
    dry_run: bool,
    rate: String,
    filter: String,
    delete_missing: bool,
) -> Result<StartOutcome, ServerFnError> {
    use super::ssr::state;
    let refuse = |message: String| {
        Ok(StartOutcome {
            started: false,
            message,
        })
    };
    let rate_per_second = match rate.trim() {
        "" => None,
        text => match text.parse::<u32>() {
            Ok(n) if (1..=100_000).contains(&n) => Some(n),
            _ => {
                return refuse(format!(
                    "rate limit: \"{text}\" must be a whole number from 1 to 100000, or empty"
                ));
            }
        },
    };
    let filter = match filter.trim() {
        "" => None,
        text => match engine::ldap_filter::Filter::parse(text) {
            Ok(_) => Some(text.to_owned()),
            Err(e) => {
                return refuse(format!(
                    "filter: \"{text}\" is not a valid LDAP filter: {e}"
                ));
            }
        },
    };
    if delete_missing && filter.is_some() {
        return refuse(
            "delete missing: needs a resync of every entry; leave the filter empty".to_owned(),
        );
    }
    let st = state()?;
    let options = engine::sync::ResyncOptions {
        dry_run,
        filter,
        dns: None,
        rate_per_second,
        threads: None,
        delete_missing,
    };
    let detail = options.summary();
    match st.resyncs.start(st.store.clone(), &pipe, options).await {
        Ok(()) => Ok({
            super::ssr::audit(&st, "start-resync", format!("sync pipe \"{pipe}\""), detail).await;
            StartOutcome {
                started: true,
                message: format!("Resync of \"{pipe}\" started."),
            }
        }),
        Err(e) => refuse(e),
    }
}
