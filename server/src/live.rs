//! Server-sent events that push live state to the console without reloading pages.

use axum::extract::Query;
use axum::response::sse::{Event, KeepAlive, Sse};
use engine::sync::ResyncJobs;
use futures::Stream;
use std::convert::Infallible;
use std::time::Duration;

#[derive(serde::Deserialize)]
pub struct PipeQuery {
    pipe: String,
}

/// `/api/resync/events?pipe=P`: the pipe's resync status every 300 ms while it runs, then
/// the final status, then the end of the stream (`null` when no resync was started).
pub async fn resync_events(
    jobs: ResyncJobs,
    Query(query): Query<PipeQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures::stream::unfold(
        (jobs, query.pipe, true, false),
        |(jobs, pipe, first, done)| async move {
            if done {
                return None;
            }
            if !first {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            let status = jobs.status(&pipe);
            let finished = status.as_ref().is_none_or(|s| !s.running);
            let data = serde_json::to_string(&status).unwrap_or_else(|_| "null".into());
            Some((
                Ok(Event::default().data(data)),
                (jobs, pipe, false, finished),
            ))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// `/api/realtime/events?pipe=P`: the pipe's realtime status every second while the page is open.
pub async fn realtime_events(
    state: app::state::AppState,
    Query(query): Query<PipeQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures::stream::unfold(
        (state, query.pipe, true),
        |(state, pipe, first)| async move {
            if !first {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            let data = match app::api::pipe_realtime(&state, &pipe).await {
                Ok(status) => serde_json::to_string(&status).unwrap_or_default(),
                Err(e) => {
                    tracing::warn!("realtime status of \"{pipe}\": {e}");
                    "null".into()
                }
            };
            Some((Ok(Event::default().data(data)), (state, pipe, false)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// `/api/overview/events`: every pipe at a glance (the operations overview) every second
/// while the page is open.
pub async fn overview_events(
    state: app::state::AppState,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures::stream::unfold((state, true), |(state, first)| async move {
        if !first {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let data = match app::api::pipes_overview_of(&state).await {
            Ok(pipes) => serde_json::to_string(&pipes).unwrap_or_default(),
            Err(e) => {
                tracing::warn!("operations overview: {e}");
                "null".into()
            }
        };
        Some((Ok(Event::default().data(data)), (state, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
