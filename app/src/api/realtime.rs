//! Step 11 and the pipe pages: starting and stopping realtime sync, its status.

use crate::model::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub(crate) fn realtime_view(status: serde_json::Value) -> Option<RealtimeStatus> {
    serde_json::from_value(status).ok()
}

/// Realtime status of a pipe: live from this process if it runs the pipe, else as last stored.
#[cfg(feature = "ssr")]
pub async fn pipe_realtime(
    st: &crate::state::AppState,
    pipe: &str,
) -> Result<PipeRealtime, engine::store::StoreError> {
    let live = st.realtime.status(pipe);
    let (started, stored, _) = match st.store.realtime_state(pipe).await {
        Ok(state) => state,
        // A pipe running here is still shown (waiting for the store, say) while the store
        // cannot be read.
        Err(e) if e.is_unavailable() && live.is_some() => {
            return Ok(PipeRealtime {
                pipe: pipe.to_owned(),
                started: true,
                startpoint: None,
                status: live,
                runs_on: None,
                pending: PendingReferences {
                    count: 0,
                    oldest: Vec::new(),
                },
                held_deletes: 0,
            });
        }
        Err(e) => return Err(e),
    };
    let startpoint = st.store.realtime_cursor(pipe).await?.map(|c| c.to_string());
    let runs_on = st.store.lease_holder(pipe).await?;
    Ok(PipeRealtime {
        pipe: pipe.to_owned(),
        started,
        startpoint,
        status: live.or_else(|| stored.and_then(realtime_view)),
        runs_on,
        pending: pending_references(st, pipe).await?,
        held_deletes: st.store.held_delete_count(pipe).await?,
    })
}

/// How many references of `pipe` are pending, and the oldest twenty.
#[cfg(feature = "ssr")]
pub async fn pending_references(
    st: &crate::state::AppState,
    pipe: &str,
) -> Result<PendingReferences, engine::store::StoreError> {
    let count = st.store.pending_reference_count(pipe).await?;
    let oldest = if count == 0 {
        Vec::new()
    } else {
        st.store
            .pending_references(pipe, None, 20)
            .await?
            .into_iter()
            .map(|r| PendingReferenceView {
                referrer: r.referrer_dn,
                mapping: r.reference.mapping,
                target: r.reference.dn,
                since: readable_time(&r.created_at),
            })
            .collect()
    };
    Ok(PendingReferences { count, oldest })
}

#[server]
pub async fn realtime_pipes() -> Result<Vec<PipeRealtime>, ServerFnError> {
    use super::ssr::{fail, state};
    let st = state()?;
    let config = st.store.load_config().await.map_err(fail)?;
    let mut out = Vec::new();
    for p in &config.sync_pipes {
        out.push(pipe_realtime(&st, &p.name).await.map_err(fail)?);
    }
    Ok(out)
}

/// Starts or stops realtime sync of a pipe.
#[server]
pub async fn set_realtime(pipe: String, start: bool) -> Result<StartOutcome, ServerFnError> {
    use super::ssr::{fail, state};
    let st = state()?;
    let config = st.store.load_config().await.map_err(fail)?;
    if !config.sync_pipes.iter().any(|p| p.name == pipe) {
        return Ok(StartOutcome {
            started: false,
            message: format!("there is no sync pipe named \"{pipe}\""),
        });
    }
    if start
        && st
            .store
            .realtime_cursor(&pipe)
            .await
            .map_err(fail)?
            .is_none()
    {
        return Ok(StartOutcome {
            started: false,
            message: format!("set a startpoint for \"{pipe}\" first (step 9)"),
        });
    }
    st.store
        .set_realtime_started(&pipe, start)
        .await
        .map_err(fail)?;
    let action = if start {
        "start-realtime"
    } else {
        "stop-realtime"
    };
    super::ssr::audit(&st, action, format!("sync pipe \"{pipe}\""), "").await;
    let message = if start {
        format!("Realtime sync of \"{pipe}\" started.")
    } else {
        format!("Realtime sync of \"{pipe}\" stopped.")
    };
    Ok(StartOutcome {
        started: start,
        message,
    })
}
