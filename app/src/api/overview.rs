//! The operations overview: each pipe at a glance.

use crate::model::*;
use leptos::prelude::*;

/// Every pipe's state, counts and last resync (also streamed by /api/overview/events).
#[cfg(feature = "ssr")]
pub async fn pipes_overview_of(
    st: &crate::state::AppState,
) -> Result<Vec<PipeOverview>, engine::store::StoreError> {
    let config = st.store.load_config().await?;
    let open = st.store.open_rejection_counts().await?;
    let mut last_runs = st.store.last_resync_runs().await?;
    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let mut out = Vec::new();
    for p in &config.sync_pipes {
        let resync = st
            .resyncs
            .status(&p.name)
            .or_else(|| last_runs.remove(&p.name));
        let resync_seconds = resync.as_ref().map(|r| {
            let end = r.finished_at.unwrap_or_else(chrono::Utc::now);
            (end - r.started_at).num_milliseconds().max(0) as f64 / 1000.0
        });
        out.push(PipeOverview {
            realtime: super::realtime::pipe_realtime(st, &p.name).await?,
            rejections_open: open
                .iter()
                .find(|(pipe, _)| *pipe == p.name)
                .map_or(0, |(_, n)| *n),
            changes_last_hour: st.store.changes_logged_since(&p.name, hour_ago).await?,
            resync,
            resync_seconds,
        });
    }
    Ok(out)
}

#[server]
pub async fn pipes_overview() -> Result<Vec<PipeOverview>, ServerFnError> {
    use super::ssr::{fail, state};
    pipes_overview_of(&state()?).await.map_err(fail)
}
