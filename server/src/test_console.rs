//! A console in-process for unit tests: its routes on a real SQLite store holding the
//! example configuration, a session for a user, and requests read to their end.

use crate::serve::console_router;
use app::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use engine::crypto::Cipher;
use engine::store::{Role, Store};
use tower::ServiceExt;

pub const ADMIN_PASSWORD: &str = "admin password for tests";
pub const HOST: &str = "console.test:3000";
pub const ORIGIN: &str = "http://console.test:3000";

pub struct Console {
    pub router: Router,
    pub store: Store,
    _dir: tempfile::TempDir,
}

pub async fn console() -> Console {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &format!("sqlite://{}", dir.path().join("s.db").display()),
        Cipher::ephemeral(),
    )
    .await
    .unwrap();
    store
        .replace_all(engine::config::examples::example())
        .await
        .unwrap();
    store
        .add_console_user("admin", ADMIN_PASSWORD, Role::Admin)
        .await
        .unwrap();
    store
        .add_console_user("watcher", "viewer password for tests", Role::Viewer)
        .await
        .unwrap();
    let state = AppState {
        store: store.clone(),
        resyncs: Default::default(),
        realtime: engine::sync::RealtimeSupervisor::spawn_as(store.clone(), "access-test"),
    };
    let site = crate::site::Site::Directory(dir.path().display().to_string());
    let options = site.leptos_options(None).unwrap();
    Console {
        router: console_router(state, options, &site, false),
        store,
        _dir: dir,
    }
}

impl Console {
    pub async fn session(&self, username: &str) -> String {
        let token = self
            .store
            .open_console_session(username, chrono::Duration::hours(1))
            .await
            .unwrap();
        format!("scimsync_session={token}")
    }

    /// Sends one request and reads the whole answer; a request that hangs fails the test,
    /// naming itself and whether the head or the body did not come.
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, header::HeaderMap, String) {
        let what = format!("{} {}", request.method(), request.uri());
        let limit = std::time::Duration::from_secs(15);
        let response = tokio::time::timeout(limit, self.router.clone().oneshot(request))
            .await
            .unwrap_or_else(|_| panic!("{what}: no response head in {limit:?}"))
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, http_body_util::BodyExt::frame(&mut body)).await
            {
                Ok(Some(frame)) => {
                    if let Ok(data) = frame.unwrap().into_data() {
                        bytes.extend_from_slice(&data);
                    }
                }
                Ok(None) => break,
                Err(_) => panic!(
                    "{what}: {status}, the body did not end in {limit:?}; it stopped after:\n{}",
                    String::from_utf8_lossy(&bytes)
                ),
            }
        }
        (
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }
}

pub fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut r = Request::get(path).header(header::HOST, HOST);
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    r.body(Body::empty()).unwrap()
}

pub fn post(path: &str, cookie: Option<&str>, origin: Option<&str>, body: &str) -> Request<Body> {
    let mut r = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    if let Some(o) = origin {
        r = r.header(header::ORIGIN, o);
    }
    r.body(Body::from(body.to_owned())).unwrap()
}
