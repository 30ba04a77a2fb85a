//! `scimsync serve`: the web console.

use crate::cli::{InstanceArgs, ServeArgs};
use anyhow::Context;
use app::state::AppState;
use app::{App, shell};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::process::ExitCode;

pub async fn run(instance: &InstanceArgs, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let store = instance.open_store().await?;
    let conf = get_configuration(None).context("reading the Leptos site configuration")?;
    let mut options = conf.leptos_options;
    if let Some(addr) = args.listen {
        options.site_addr = addr;
    }
    let addr = options.site_addr;
    let realtime = engine::sync::RealtimeSupervisor::spawn(store.clone());
    let state = AppState {
        store: store.clone(),
        resyncs: Default::default(),
        realtime: realtime.clone(),
    };
    let routes = generate_route_list(App);
    let jobs = state.resyncs.clone();
    let live_state = state.clone();
    let router = Router::new()
        .route(
            "/api/resync/events",
            axum::routing::get(move |query| crate::live::resync_events(jobs.clone(), query)),
        )
        .route(
            "/api/realtime/events",
            axum::routing::get(move |query| {
                crate::live::realtime_events(live_state.clone(), query)
            }),
        )
        .leptos_routes_with_context(
            &options,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    eprintln!(
        "scimsync console: http://{addr}  (store: {}, key file: {})",
        engine::store::redact_url(&instance.database_url()),
        instance.key_path().display()
    );
    axum::serve(listener, router.into_make_service())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    realtime.shutdown().await;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
