//! `scimsync serve`: the web console.

use crate::access::{self, Access};
use crate::cli::{InstanceArgs, ServeArgs};
use anyhow::Context;
use app::state::AppState;
use app::{App, shell};
use axum::Router;
use axum::routing::{get, post};
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use std::process::ExitCode;

pub async fn run(instance: &InstanceArgs, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let store = instance.open_store().await?;
    access::bootstrap::ensure_admin(&store).await?;
    let site = crate::site::Site::locate();
    let options = site
        .leptos_options(args.listen)
        .context("reading the Leptos site configuration")?;
    let addr = options.site_addr;
    // host:port by default: unique per host, and the same after a restart, so a restarted
    // instance takes its pipes back at once instead of waiting for its old leases to expire.
    let instance_name = args
        .instance_name
        .clone()
        .unwrap_or_else(|| format!("{}:{}", engine::sync::host_name(), addr.port()));
    let realtime = engine::sync::RealtimeSupervisor::spawn_as(store.clone(), &instance_name);
    let pruning = tokio::spawn(engine::sync::prune_log_periodically(store.clone()));
    let state = AppState {
        store: store.clone(),
        resyncs: Default::default(),
        realtime: realtime.clone(),
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(crate::tls::server_config(cert, key)?),
        _ => None,
    };
    // Session cookies are `Secure` when browsers reach the console over HTTPS: served with
    // TLS here, or by a reverse proxy at an https:// public URL.
    let over_https = tls.is_some()
        || args
            .public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https");
    let router = console_router(state, options, &site, over_https);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    eprintln!(
        "scimsync console: {}://{addr}  (instance: {instance_name}, store: {}, key file: {})",
        if tls.is_some() { "https" } else { "http" },
        engine::store::redact_url(&instance.database_url()),
        instance.key_path().display()
    );
    // The client's address, for the sign-in throttle.
    let app = router.into_make_service_with_connect_info::<crate::access::ClientAddr>();
    match tls {
        Some(config) => {
            let listener = crate::tls::TlsListener::new(listener, config)?;
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await?
        }
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await?
        }
    }
    realtime.shutdown().await;
    pruning.abort();
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The console's pages, generated once per process. Generating them renders the app with
/// resource loading switched off for the whole process (a global flag in leptos_server), so a
/// page rendering on another thread meanwhile would wait forever for its data: every caller
/// waits here for the one generation, which is done before any page renders.
pub fn console_routes() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Every route of the console, behind the access guard, with the site's files.
pub fn console_router(
    state: AppState,
    options: LeptosOptions,
    site: &crate::site::Site,
    secure_cookie: bool,
) -> Router {
    let access = Access {
        store: state.store.clone(),
        secure_cookie,
        throttle: Default::default(),
        stylesheet: site.stylesheet().into(),
    };
    let routes = console_routes();
    let jobs = state.resyncs.clone();
    let live_state = state.clone();
    let log_store = state.store.clone();
    let sign_in = Router::new()
        .route(
            "/login",
            get(access::login::show).post(access::login::sign_in),
        )
        .route("/logout", post(access::login::sign_out))
        .with_state(access.clone());
    Router::new()
        .route(
            "/api/resync/events",
            get(move |query| crate::live::resync_events(jobs.clone(), query)),
        )
        .route(
            "/api/log",
            get(move |query| crate::log_export::download(log_store.clone(), query)),
        )
        .route(
            "/api/realtime/events",
            get({
                let live_state = live_state.clone();
                move |query| crate::live::realtime_events(live_state.clone(), query)
            }),
        )
        .route(
            "/api/overview/events",
            get(move || crate::live::overview_events(live_state.clone())),
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
        .with_state(options)
        .merge(site.router())
        .merge(sign_in)
        .layer(axum::middleware::from_fn_with_state(access, access::guard))
        // Health and metrics answer without a console session.
        .merge(crate::observe::router(state))
        .layer(axum::middleware::map_response(crate::security_headers::add))
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
