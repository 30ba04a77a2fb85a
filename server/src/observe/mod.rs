//! What load balancers and Prometheus call, without a console session: `/healthz` (the
//! process answers), `/readyz` (the store answers too; 503 with the reason otherwise) and
//! `/metrics` (Prometheus text; when the global `metrics-bearer-token` is set, only for
//! requests bearing it).

mod exposition;

use app::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use engine::config::Config;
use engine::metrics::{self, DURATION_BUCKETS};
use engine::report::RealtimeState;
use exposition::{Exposition, Kind, number};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_page))
        .with_state(state)
}

/// How long readiness waits for the store: a load balancer must hear "not ready" before its
/// own timeout, not after.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_millis(1000);

async fn readyz(State(state): State<AppState>) -> Response {
    let not_ready = |why: String| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: the store does not answer: {why}\n"),
        )
            .into_response()
    };
    match tokio::time::timeout(READY_WITHIN, state.store.ping()).await {
        Ok(Ok(())) => "ready\n".into_response(),
        Ok(Err(e)) => not_ready(e.to_string()),
        Err(_) => not_ready(format!("no answer within {READY_WITHIN:?}")),
    }
}

async fn metrics_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let config = match state.store.load_config().await {
        Ok(config) => config,
        Err(e) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("metrics unavailable: the store does not answer: {e}\n"),
            )
                .into_response();
        }
    };
    if let Some(refused) = refusal(&state, &config, &headers) {
        return refused;
    }
    match render(&state, &config).await {
        Ok(text) => ([(header::CONTENT_TYPE, exposition::CONTENT_TYPE)], text).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("metrics unavailable: the store does not answer: {e}\n"),
        )
            .into_response(),
    }
}

/// With a metrics token set, the request must bear it: the answer if it does not.
fn refusal(state: &AppState, config: &Config, headers: &HeaderMap) -> Option<Response> {
    let token = config.global.metrics_bearer_token.as_ref()?;
    let unauthorised = |why: &str| {
        Some(
            (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    "Bearer realm=\"scimsync metrics\"",
                )],
                format!("{why}\n"),
            )
                .into_response(),
        )
    };
    let expected = match token.expose(state.store.cipher()) {
        Ok(expected) => expected,
        Err(e) => {
            tracing::error!("the metrics bearer token cannot be read: {e}");
            return unauthorised(
                "the metrics bearer token cannot be read with this instance's key",
            );
        }
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if engine::crypto::same_secret(given.as_bytes(), expected.as_bytes()) {
        None
    } else {
        unauthorised("a valid bearer token is required")
    }
}

async fn render(state: &AppState, config: &Config) -> Result<String, engine::store::StoreError> {
    let counters = metrics::counters();
    let mut e = Exposition::default();

    e.family(
        "scimsync_changes_total",
        Kind::Counter,
        "Changes handled since the process started, by pipe, phase (resync, realtime) and outcome.",
    );
    for c in counters.changes() {
        e.sample(
            "scimsync_changes_total",
            &[
                ("pipe", &c.pipe),
                ("phase", c.phase.as_str()),
                ("outcome", c.outcome.as_str()),
            ],
            c.count as f64,
        );
    }

    e.family(
        "scimsync_scim_requests_total",
        Kind::Counter,
        "SCIM requests sent since the process started, by method and HTTP status (transport-error: no answer).",
    );
    for r in counters.requests() {
        e.sample(
            "scimsync_scim_requests_total",
            &[("method", &r.method), ("status", &r.status)],
            r.count as f64,
        );
    }
    e.family(
        "scimsync_scim_request_duration_seconds",
        Kind::Histogram,
        "Time until a SCIM request was answered, by method.",
    );
    for (method, h) in counters.durations() {
        let name = "scimsync_scim_request_duration_seconds";
        for (bound, count) in DURATION_BUCKETS.iter().zip(h.buckets) {
            e.sample(
                &format!("{name}_bucket"),
                &[("method", &method), ("le", &number(*bound))],
                count as f64,
            );
        }
        e.sample(
            &format!("{name}_bucket"),
            &[("method", &method), ("le", "+Inf")],
            h.count as f64,
        );
        e.sample(
            &format!("{name}_sum"),
            &[("method", &method)],
            h.sum_seconds,
        );
        e.sample(
            &format!("{name}_count"),
            &[("method", &method)],
            h.count as f64,
        );
    }

    let open = state.store.open_rejection_counts().await?;
    let mut pipes = Vec::new();
    for pipe in &config.sync_pipes {
        let realtime = app::api::pipe_realtime(state, &pipe.name).await?;
        let rejections = open
            .iter()
            .find(|(p, _)| *p == pipe.name)
            .map_or(0, |(_, n)| *n);
        pipes.push((pipe.name.as_str(), realtime, rejections));
    }

    e.family(
        "scimsync_rejections_open",
        Kind::Gauge,
        "Rejected operations waiting for an admin, by pipe.",
    );
    for (pipe, _, rejections) in &pipes {
        e.sample(
            "scimsync_rejections_open",
            &[("pipe", pipe)],
            *rejections as f64,
        );
    }
    e.family(
        "scimsync_deletes_held",
        Kind::Gauge,
        "Deletes held back by the pipe's deletion limit until an admin approves or discards them, by pipe.",
    );
    for (pipe, realtime, _) in &pipes {
        e.sample(
            "scimsync_deletes_held",
            &[("pipe", pipe)],
            realtime.held_deletes as f64,
        );
    }
    e.family(
        "scimsync_references_pending",
        Kind::Gauge,
        "References written without their target, which is not at the destination yet, by pipe.",
    );
    for (pipe, realtime, _) in &pipes {
        e.sample(
            "scimsync_references_pending",
            &[("pipe", pipe)],
            realtime.pending.count as f64,
        );
    }
    e.family(
        "scimsync_pipe_state",
        Kind::Gauge,
        "Where each pipe's realtime sync is: 1 for its present state, 0 for the others.",
    );
    for (pipe, realtime, _) in &pipes {
        let state = realtime.state();
        for s in RealtimeState::ALL {
            e.sample(
                "scimsync_pipe_state",
                &[("pipe", pipe), ("state", s.as_str())],
                if *s == state { 1.0 } else { 0.0 },
            );
        }
    }
    e.family(
        "scimsync_changelog_backlog",
        Kind::Gauge,
        "Changes in the source changelog after the pipe's cursor (pipes whose source can say).",
    );
    for (pipe, realtime, _) in &pipes {
        if let Some(backlog) = realtime.status.as_ref().and_then(|s| s.backlog) {
            e.sample(
                "scimsync_changelog_backlog",
                &[("pipe", pipe)],
                backlog as f64,
            );
        }
    }
    e.family(
        "scimsync_changelog_lag_seconds",
        Kind::Gauge,
        "How far each running pipe is behind its changelog: seconds from the source logging the latest change done to its being done; 0 with nothing waiting.",
    );
    for (pipe, realtime, _) in &pipes {
        let Some(status) = realtime.status.as_ref().filter(|_| realtime.started) else {
            continue;
        };
        let caught_up = status.queue == 0 && status.backlog.unwrap_or(0) == 0;
        if let Some(lag) = status.lag_seconds {
            let lag = if caught_up { 0.0 } else { lag };
            e.sample("scimsync_changelog_lag_seconds", &[("pipe", pipe)], lag);
        }
    }
    e.family(
        "scimsync_changes_queued",
        Kind::Gauge,
        "Changes read from the changelog and not done yet, by pipe.",
    );
    for (pipe, realtime, _) in &pipes {
        let queued = realtime.status.as_ref().map_or(0, |s| s.queue);
        e.sample("scimsync_changes_queued", &[("pipe", pipe)], queued as f64);
    }

    e.family(
        "scimsync_resync_running",
        Kind::Gauge,
        "1 while a resync of the pipe runs in this process.",
    );
    let resyncs: Vec<_> = config
        .sync_pipes
        .iter()
        .filter_map(|p| state.resyncs.status(&p.name))
        .collect();
    for r in &resyncs {
        e.sample(
            "scimsync_resync_running",
            &[("pipe", &r.pipe)],
            if r.running { 1.0 } else { 0.0 },
        );
    }
    e.family(
        "scimsync_resync_entries",
        Kind::Gauge,
        "The latest resync of each pipe in this process: entries expected and entries processed.",
    );
    for r in &resyncs {
        for (what, n) in [
            ("expected", r.counts.expected),
            ("processed", r.counts.processed()),
        ] {
            e.sample(
                "scimsync_resync_entries",
                &[("pipe", &r.pipe), ("count", what)],
                n as f64,
            );
        }
    }
    Ok(e.into_text())
}

#[cfg(test)]
mod tests;
