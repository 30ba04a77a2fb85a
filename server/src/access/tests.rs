//! The console's routes in-process, behind the access guard, on a real SQLite store holding
//! the example configuration: what an anonymous visitor, a viewer and an admin get.

use crate::test_console::*;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};

/// Every page of the console, parameters filled in with objects of the example.
fn pages() -> Vec<String> {
    let mut out = Vec::new();
    for route in crate::serve::console_routes() {
        let path = route.path().to_owned();
        let filled = |number: &str| {
            path.replace(":number", number)
                .replace("{number}", number)
                .replace(":name", "LDAP%20to%20SCIM")
                .replace("{name}", "LDAP%20to%20SCIM")
        };
        if path.contains("/edit/") {
            continue; // the edit pages of real objects are listed below
        } else if path.contains("number") {
            out.extend((1..=11).map(|n| filled(&n.to_string())));
        } else {
            out.push(filled(""));
        }
    }
    out.push("/step/1/edit/Corporate%20LDAP".into());
    out.push("/step/3/edit/SCIM%20Service".into());
    out.push("/step/7/edit/LDAP%20to%20SCIM".into());
    out.sort();
    out.dedup();
    out
}

fn server_fns() -> Vec<String> {
    let fns: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    assert!(fns.len() >= 15, "{fns:?}");
    fns
}

fn name_of(path: &str) -> &str {
    super::guard::server_fn_name(path).expect("a server function path")
}

#[tokio::test]
async fn nothing_is_served_without_signing_in() {
    let c = console().await;
    for page in pages() {
        let (status, headers, _) = c.send(get(&page, None)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let to = headers[header::LOCATION].to_str().unwrap();
        assert!(to.starts_with("/login?next="), "{page} → {to}");
    }
    for path in server_fns() {
        let (status, _, _) = c.send(post(&path, None, Some(ORIGIN), "")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
    for feed in ["/api/resync/events", "/api/realtime/events"] {
        let (status, _, _) = c.send(get(feed, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{feed}");
    }
    let (status, _, _) = c
        .send(get("/step/1", Some("scimsync_session=forged-token")))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The sign-in page itself is open.
    let (status, _, body) = c.send(get("/login?next=/step/3", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#"name="next" value="/step/3""#), "{body}");
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_and_signing_out_ends_it() {
    let c = console().await;
    let form = |password: &str| {
        format!(
            "username=admin&password={}&next=%2Fstep%2F7",
            password.replace(' ', "+")
        )
    };
    let (status, headers, body) = c
        .send(post(
            "/login",
            None,
            Some(ORIGIN),
            &form("wrong password here"),
        ))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.get(header::SET_COOKIE).is_none());
    assert!(body.contains("Wrong username or password."));
    // A sign-in posted from another site is refused (login CSRF).
    let (status, _, _) = c
        .send(post(
            "/login",
            None,
            Some("http://evil.example"),
            &form(ADMIN_PASSWORD),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, headers, _) = c
        .send(post("/login", None, Some(ORIGIN), &form(ADMIN_PASSWORD)))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/step/7");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    let session = cookie.split(';').next().unwrap().to_owned();
    let (status, _, body) = c.send(get("/step/7", Some(&session))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Sync pipe"), "{body}");

    let (status, _, _) = c
        .send(post("/logout", Some(&session), Some(ORIGIN), ""))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = c.send(get("/step/7", Some(&session))).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the session is over");
    let actions: Vec<String> = c
        .store
        .audit_log(10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.actor, e.action))
        .collect();
    assert!(
        actions.contains(&"console:admin sign-in".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"console:admin sign-out".to_owned()),
        "{actions:?}"
    );
    // Guessing: after five wrong passwords the username is locked, even for the right one.
    for _ in 0..5 {
        let (status, _, _) = c
            .send(post(
                "/login",
                None,
                Some(ORIGIN),
                &form("another wrong one"),
            ))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, headers, body) = c
        .send(post("/login", None, Some(ORIGIN), &form(ADMIN_PASSWORD)))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.get(header::SET_COOKIE).is_none());
    assert!(body.contains("Too many failed sign-ins"), "{body}");
}

#[tokio::test]
async fn signing_in_cannot_redirect_elsewhere() {
    let c = console().await;
    // Each hostile `next` (form-encoded as a browser posts it) goes to the console's home; a
    // path of the console goes where it says, percent-encoded.
    let cases = [
        ("%2F%2Fevil.example", "/"),
        ("%2F%09%2Fevil.example%2F", "/"),
        ("%2F%0A%2Fevil.example", "/"),
        ("%2F%0D%0ALocation%3A+http%3A%2F%2Fevil.example", "/"),
        ("%2F%5Cevil.example", "/"),
        ("%5C%5Cevil.example", "/"),
        ("https%3A%2F%2Fevil.example%2F", "/"),
        ("javascript%3Aalert(1)", "/"),
        ("%2F+%2Fevil.example", "/"),
        ("evil.example", "/"),
        ("%2Fstep%2F3%3Fx%3D1%23top", "/step/3?x=1#top"),
        ("%2F%2509%2Fevil.example", "/%09/evil.example"),
        ("%2Flog%3Fdn%3D%C3%A9", "/log?dn=%C3%A9"),
    ];
    for (next, location) in cases {
        let (status, headers, body) = c
            .send(post(
                "/login",
                None,
                Some(ORIGIN),
                &format!(
                    "username=admin&password={}&next={next}",
                    ADMIN_PASSWORD.replace(' ', "+")
                ),
            ))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{next}: {body}");
        assert_eq!(headers[header::LOCATION], location, "{next}");
        assert!(headers.contains_key(header::SET_COOKIE), "{next}");
    }
    // The sign-in page keeps only such a path in its form.
    let (_, _, page) = c.send(get("/login?next=/%09/evil.example/", None)).await;
    assert!(page.contains(r#"name="next" value="/""#), "{page}");
}

#[tokio::test]
async fn viewers_can_read_but_not_change_and_changes_need_the_consoles_origin() {
    let c = console().await;
    let viewer = c.session("watcher").await;
    let admin = c.session("admin").await;
    for page in pages() {
        let (status, _, body) = c.send(get(&page, Some(&viewer))).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        // Secrets of the example never reach a page.
        for secret in ["syncpass", "token-123"] {
            assert!(!body.contains(secret), "{page} shows {secret}");
        }
    }
    let mut refused = Vec::new();
    for path in server_fns() {
        let (status, _, body) = c.send(post(&path, Some(&viewer), Some(ORIGIN), "")).await;
        let reads = app::api::VIEWER_SERVER_FNS.contains(&name_of(&path));
        if reads {
            assert!(
                status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                "{path}: {status} {body}"
            );
        } else {
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
            refused.push(name_of(&path).to_owned());
        }
    }
    for name in [
        "save_object",
        "delete_object",
        "set_startpoint",
        "set_realtime",
        "start_resync",
        "retry_rejections",
        "dismiss_rejections",
        "test_connection",
    ] {
        assert!(
            refused.iter().any(|r| r == name),
            "{name} not refused: {refused:?}"
        );
    }
    // The delete a viewer tried did not happen; an admin's does, but not from another site.
    let delete = server_fns()
        .into_iter()
        .find(|p| name_of(p) == "delete_object")
        .unwrap();
    let body = "kind=sync-class&name=Everything+else";
    assert!(
        c.store
            .load_config()
            .await
            .unwrap()
            .sync_classes
            .iter()
            .any(|s| s.name == "Everything else")
    );
    for origin in [None, Some("http://evil.example")] {
        let (status, _, _) = c.send(post(&delete, Some(&admin), origin, body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "origin {origin:?}");
    }
    assert!(
        c.store
            .load_config()
            .await
            .unwrap()
            .sync_classes
            .iter()
            .any(|s| s.name == "Everything else")
    );
    let (status, _, response) = c
        .send(post(&delete, Some(&admin), Some(ORIGIN), body))
        .await;
    assert_eq!(status, StatusCode::OK, "{response}");
    assert!(
        !c.store
            .load_config()
            .await
            .unwrap()
            .sync_classes
            .iter()
            .any(|s| s.name == "Everything else")
    );
    let log = c.store.audit_log(5).await.unwrap();
    assert_eq!(
        (
            log[0].actor.as_str(),
            log[0].action.as_str(),
            log[0].target.as_str()
        ),
        ("console:admin", "delete", "sync class \"Everything else\"")
    );
}

#[tokio::test]
async fn malformed_and_oversized_requests_get_clear_4xx_answers() {
    let c = console().await;
    let admin = c.session("admin").await;
    let save = server_fns()
        .into_iter()
        .find(|p| name_of(p) == "save_object")
        .unwrap();
    let json = |body: &str| {
        Request::post(&save)
            .header(header::HOST, HOST)
            .header(header::ORIGIN, ORIGIN)
            .header(header::COOKIE, &admin)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    for body in ["{not json", "[]", r#"{"kind": 5}"#, ""] {
        let (status, _, text) = c.send(json(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?} → {text}");
        assert!(text.contains("request"), "{body:?} → {text}");
    }
    let big = "x".repeat(3 << 20);
    let (status, _, text) = c.send(json(&big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
    assert!(text.contains("too large"), "{text}");
    let (status, _, _) = c
        .send(post(
            "/login",
            None,
            Some(ORIGIN),
            &format!("username={big}"),
        ))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _, _) = c
        .send(post("/login", None, Some(ORIGIN), "username=admin"))
        .await;
    assert!(status.is_client_error(), "{status}");
}

/// Consoles are built and pages render on several threads at once, as the tests of this
/// module do. Every page must finish: generating a route list stops resources from loading in
/// the whole process, so one generated while another thread renders left that page's Suspense
/// waiting forever (about one run in 40 of this module hung so).
#[test]
fn every_page_finishes_while_other_threads_build_consoles() {
    let threads: Vec<_> = (0..2)
        .map(|thread| {
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(async move {
                        for round in 0..20 {
                            let c = console().await;
                            let session = c.session("admin").await;
                            for page in pages() {
                                let (status, _, _) = c.send(get(&page, Some(&session))).await;
                                assert_eq!(
                                    status,
                                    StatusCode::OK,
                                    "thread {thread} round {round}: {page}"
                                );
                            }
                        }
                    })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[tokio::test]
async fn actions_on_a_pipe_that_does_not_exist_say_so() {
    let c = console().await;
    let admin = c.session("admin").await;
    let path = |name: &str| {
        server_fns()
            .into_iter()
            .find(|p| name_of(p) == name)
            .unwrap_or_else(|| panic!("no server function {name}"))
    };
    let before = c.store.audit_log(100).await.unwrap().len();
    let (status, _, body) = c
        .send(post(
            &path("start_resync"),
            Some(&admin),
            Some(ORIGIN),
            "pipe=No+such+pipe&dry_run=false&rate=&filter=&delete_missing=false",
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("\"started\":false") && body.contains("there is no sync pipe named"),
        "{body}"
    );
    let (status, _, body) = c
        .send(post(
            &path("apply_preview"),
            Some(&admin),
            Some(ORIGIN),
            "pipe=No+such+pipe&dn=uid%3Dann%2Cdc%3Dexample%2Cdc%3Dcom",
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("there is no sync pipe named"), "{body}");
    // Neither was audited as done.
    assert_eq!(c.store.audit_log(100).await.unwrap().len(), before);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let c = console().await;
    let admin = c.session("admin").await;
    let mut paths = pages();
    paths.extend(
        [
            "/login",
            "/api/log?format=csv",
            "/healthz",
            "/readyz",
            "/no/such/page",
        ]
        .map(String::from),
    );
    for path in paths {
        let (_, headers, body) = c.send(get(&path, Some(&admin))).await;
        let header = |name: header::HeaderName| {
            headers
                .get(&name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{path}: no {name}"))
                .to_owned()
        };
        let policy = header(header::CONTENT_SECURITY_POLICY);
        assert!(
            policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-inline"),
            "{path}: {policy}"
        );
        assert_eq!(header(header::X_FRAME_OPTIONS), "DENY", "{path}");
        assert_eq!(header(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{path}");
        assert_eq!(header(header::REFERRER_POLICY), "same-origin", "{path}");
        // A page's inline scripts carry the nonce its policy allows, and no other runs.
        if body.contains("<script") && !path.starts_with("/api/") {
            let nonce = policy
                .split("'nonce-")
                .nth(1)
                .and_then(|n| n.split('\'').next())
                .unwrap_or_else(|| panic!("{path}: inline scripts but no nonce in {policy}"));
            for script in body.split("<script").skip(1) {
                let open = script.split('>').next().unwrap_or_default();
                assert!(
                    open.contains(&format!("nonce=\"{nonce}\"")) || open.contains(" src="),
                    "{path}: a script without the nonce: <script{open}>"
                );
            }
        }
    }
}
