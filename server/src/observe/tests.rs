//! Health and metrics in-process, without a session, read with a Prometheus text parser.

use crate::test_console::*;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use engine::config::Secret;

fn metrics_request(token: Option<&str>) -> Request<Body> {
    let mut r = Request::get("/metrics").header(header::HOST, HOST);
    if let Some(t) = token {
        r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    r.body(Body::empty()).unwrap()
}

/// The value of the sample of `text` named `name` whose labels include `labels`, as a
/// Prometheus parser reads it.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text");
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
            _ => f64::NAN,
        })
}

#[tokio::test]
async fn health_answers_without_a_session() {
    let c = console().await;
    let (status, _, body) = c.send(get("/healthz", None)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok\n"));
    let (status, _, body) = c.send(get("/readyz", None)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ready\n"));
    c.store.close().await;
    let (status, _, body) = c.send(get("/readyz", None)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body.starts_with("not ready: the store does not answer"),
        "{body}"
    );
    let (status, _, _) = c.send(get("/healthz", None)).await;
    assert_eq!(status, StatusCode::OK, "the process still answers");
}

#[tokio::test]
async fn metrics_parse_and_name_every_pipe() {
    let c = console().await;
    let (status, headers, text) = c.send(metrics_request(None)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{headers:?}"
    );
    let pipe = ("pipe", "LDAP to SCIM");
    let find = |name: &str, labels: &[(&str, &str)]| {
        let mut labels = labels.to_vec();
        labels.push(pipe);
        value(&text, name, &labels)
    };
    assert_eq!(find("scimsync_rejections_open", &[]), Some(0.0), "{text}");
    assert_eq!(find("scimsync_deletes_held", &[]), Some(0.0), "{text}");
    assert_eq!(
        find("scimsync_references_pending", &[]),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        find("scimsync_pipe_state", &[("state", "stopped")]),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        find("scimsync_pipe_state", &[("state", "running")]),
        Some(0.0),
        "{text}"
    );
    // A delete held back by the pipe's limit is counted.
    c.store
        .hold_delete(&engine::store::HeldDelete {
            id: String::new(),
            held_at: chrono::Utc::now(),
            pipe: pipe.1.into(),
            dn: "uid=gone,ou=people,dc=example,dc=com".into(),
            entry_id: None,
            class: "People".into(),
            endpoint: "Users".into(),
            resource_id: "r1".into(),
            display: None,
            action: engine::config::DeleteAction::Delete,
            reason: "the entry was deleted".into(),
        })
        .await
        .unwrap();
    let (_, _, after) = c.send(metrics_request(None)).await;
    assert_eq!(
        value(&after, "scimsync_deletes_held", &[pipe]),
        Some(1.0),
        "{after}"
    );
    for family in [
        "scimsync_changes_total",
        "scimsync_scim_requests_total",
        "scimsync_scim_request_duration_seconds",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family}: {text}"
        );
    }
}

#[tokio::test]
async fn metrics_with_a_token_set_need_it_and_never_show_it() {
    let c = console().await;
    let mut config = c.store.load_config().await.unwrap();
    config.global.metrics_bearer_token = Some(Secret::plain("scrape-me-7f3a"));
    c.store.set_global(config.global).await.unwrap();
    for token in [None, Some("scrape-me"), Some("scrape-me-7f3a-and-more")] {
        let (status, headers, body) = c.send(metrics_request(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}: {body}");
        assert!(headers.contains_key(header::WWW_AUTHENTICATE));
    }
    let (status, _, text) = c.send(metrics_request(Some("scrape-me-7f3a"))).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(!text.contains("scrape-me"), "{text}");
    // Health stays open.
    let (status, _, _) = c.send(get("/readyz", None)).await;
    assert_eq!(status, StatusCode::OK);
}
