//! The realtime supervisor of `scimsync serve`: a configuration edit restarts only the pipes
//! whose own objects changed.

use engine::config::{Config, ObjectKind};
use engine::startpoint::StartpointRequest;
use engine::sync::{RealtimeState, RealtimeSupervisor};
use std::time::{Duration, Instant};
use test_support::*;

const TOKEN: &str = "supervisor-token";

#[tokio::test]
async fn an_edit_restarts_only_the_pipes_it_concerns() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let mut config: Config =
        serde_json::from_value(fixture_config(&slapd.address(), &scim.base_url(), TOKEN)).unwrap();
    // A second pipe between the same source and destination, with its own class.
    let mut second = config.sync_pipes[0].clone();
    second.name = "Second".into();
    config.sync_pipes.push(second);
    let mut class = config.sync_classes[0].clone();
    class.name = "Second People".into();
    class.pipe = "Second".into();
    config.sync_classes.push(class);
    let store = sqlite_store(&dir.path().join("s.db")).await;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    for pipe in ["LDAP to SCIM", "Second"] {
        engine::sync::set_startpoint(&store, &config, pipe, StartpointRequest::EndOfChangelog)
            .await
            .unwrap();
        store.set_realtime_started(pipe, true).await.unwrap();
    }
    let supervisor = RealtimeSupervisor::spawn_as(store.clone(), "test");
    let running = |pipe: &str| {
        supervisor
            .status(pipe)
            .filter(|s| s.state == RealtimeState::Running)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while running("LDAP to SCIM").is_none() || running("Second").is_none() {
        assert!(Instant::now() < deadline, "the pipes never ran");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first_started = running("LDAP to SCIM").unwrap().started_at;
    let second_started = running("Second").unwrap().started_at;

    // An edit of the second pipe's class.
    let mut class = serde_json::to_value(
        store
            .load_config()
            .await
            .unwrap()
            .get::<engine::config::SyncClass>("Second People")
            .unwrap(),
    )
    .unwrap();
    class["description"] = "edited".into();
    store
        .update(ObjectKind::SyncClass, "Second People", class)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while supervisor
        .status("Second")
        .is_none_or(|s| s.started_at == second_started)
    {
        assert!(
            Instant::now() < deadline,
            "the edited pipe was not restarted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        supervisor.status("LDAP to SCIM").map(|s| s.started_at),
        Some(first_started),
        "the other pipe was restarted too"
    );
    supervisor.shutdown().await;
}
