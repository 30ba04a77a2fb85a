//! The rejected-operations page: filter, inspect, retry, dismiss.

use crate::model::*;
use leptos::prelude::*;

/// Open rejections matching the filter (empty fields match everything), newest first.
#[server]
pub async fn rejected_operations(
    pipe: String,
    dn: String,
    reason: String,
    since: String,
) -> Result<Vec<RejectedOperation>, ServerFnError> {
    use super::ssr::{fail, state};
    let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let since = match some(&since) {
        Some(t) => Some(
            engine::startpoint::parse_time(&t)
                .ok_or_else(|| ServerFnError::new(format!("since: \"{t}\" is not a time")))?,
        ),
        None => None,
    };
    let filter = engine::store::RejectionFilter {
        pipe: some(&pipe),
        dn: some(&dn),
        reason: some(&reason),
        since,
        limit: 200,
    };
    let store = state()?.store;
    let mut out = Vec::new();
    for r in store.find_rejections(&filter).await.map_err(fail)? {
        out.push(RejectedOperation {
            id: r.id.clone(),
            pipe: r.pipe.clone(),
            phase: r.phase,
            detail: super::resync::rejection_view(&store, r)
                .await
                .map_err(fail)?,
        });
    }
    Ok(out)
}

/// Retries the given rejections; one line per rejection saying what happened.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn retry_rejections(ids: Vec<String>) -> Result<Vec<String>, ServerFnError> {
    use super::ssr::{fail, state};
    use engine::sync::EntryOutcome;
    let st = state()?;
    let config = st.store.load_config().await.map_err(fail)?;
    let mut lines = Vec::new();
    for id in ids {
        super::ssr::audit(&st, "retry", format!("rejected operation {id}"), "").await;
        lines.push(
            match engine::sync::retry_rejection(&st.store, &config, &id).await {
                Ok(r) => match r.outcome {
                    EntryOutcome::Rejected { rejection }
                    | EntryOutcome::Unavailable { rejection, .. } => {
                        format!("{}: rejected again: {}", r.dn, rejection.reason)
                    }
                    other => format!("{}: {}", r.dn, other.describe()),
                },
                Err(e) => format!("{id}: {e}"),
            },
        );
    }
    Ok(lines)
}

#[server(input = leptos::server_fn::codec::Json)]
pub async fn dismiss_rejections(ids: Vec<String>) -> Result<u32, ServerFnError> {
    use super::ssr::{fail, state};
    let st = state()?;
    let mut n = 0;
    for id in ids {
        if st
            .store
            .close_rejection(&id, engine::rejection::RejectionStatus::Dismissed)
            .await
            .map_err(fail)?
        {
            super::ssr::audit(&st, "dismiss", format!("rejected operation {id}"), "").await;
            n += 1;
        }
    }
    Ok(n)
}
