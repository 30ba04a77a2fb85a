//! Faults that must neither stall a pipe nor lose work: one entry the destination fails with
//! HTTP 500 while it serves every other one, an OAuth token endpoint that is down, and a search
//! answer without its Resources. Through nginx (scripts/testenv/nginx-faults.sh, nginx-auth.sh)
//! in front of a real scim2-server, from a real slapd.

use engine::config::{ChangelogFlavor, Config, ScimAuth, Secret};
use engine::rejection::FailedStep;
use engine::store::Store;
use engine::sync::{EntryOutcome, RealtimeState, ResyncOptions, ResyncProgress, run_resync};
use std::sync::Arc;
use std::time::{Duration, Instant};
use test_support::*;

const TOKEN: &str = "faults-token";
const PIPE: &str = "LDAP to SCIM";

fn person(uid: &str, sn: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {sn}\n\n"
    )
}

fn modify_sn(uid: &str, sn: &str) -> String {
    format!("dn: uid={uid},ou=people,{SUFFIX}\nchangetype: modify\nreplace: sn\nsn: {sn}\n\n")
}

/// p00…p30, sn "Before".
fn thirty_one_people() -> String {
    (0..31)
        .map(|i| person(&format!("p{i:02}"), "Before"))
        .collect()
}

/// Sets every one of the 31 to sn "After", in four ldapmodify runs (so several batches).
fn change_the_31_behind(slapd: &Slapd) {
    for batch in 0..4 {
        let ldif: String = (batch * 8..(batch * 8 + 8).min(31))
            .map(|i| modify_sn(&format!("p{i:02}"), "After"))
            .collect();
        slapd.modify(&ldif);
    }
}

async fn the_31_changed(scim_url: &str) {
    wait_until("the 31 changes behind the entry", 30, || {
        scim_people(scim_url, TOKEN)
            .iter()
            .filter(|(_, sn)| *sn == "After")
            .count()
            == 31
    })
    .await;
}

async fn setup(slapd: &Slapd, scim_base_url: &str, dir: &std::path::Path) -> (Store, Config) {
    let mut config: Config =
        serde_json::from_value(fixture_config(&slapd.address(), scim_base_url, TOKEN)).unwrap();
    config.ldap_sources[0].changelog = ChangelogFlavor::OpenldapAccesslog;
    config.ldap_sources[0].batch_size = 10;
    config.sync_pipes[0].retry_attempts = 3;
    let store = sqlite_store(&dir.join("s.db")).await;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    (store, config)
}

async fn wait_until(what: &str, seconds: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {seconds} s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn one_entry_the_destination_fails_does_not_hold_the_pipe() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let proxy = FaultProxy::start(scim.port);
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = setup(&slapd, &proxy.base_url(), dir.path()).await;
    slapd.modify(&thirty_one_people());
    let resynced = resync_pipe(&store, &config, PIPE).await;
    assert_eq!(resynced.created, 31);
    let run = RealtimeRun::from_end(&store, &config, PIPE).await;

    // The destination fails every request for "poison", and only those.
    proxy.poison(true);
    slapd.modify(&person("poison", "Stuck"));
    change_the_31_behind(&slapd);
    let started = Instant::now();
    let scim_url = scim.base_url();
    the_31_changed(&scim_url).await;
    let behind = started.elapsed();
    // The failing entry is a rejected operation, with the answer kept.
    let deadline = Instant::now() + Duration::from_secs(30);
    let rejection = loop {
        let open = store.rejections(Some(PIPE), 10).await.unwrap();
        if let Some(r) = open.into_iter().find(|r| r.dn.starts_with("uid=poison")) {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "no rejection for poison: {:#?}",
            run.progress.snapshot()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        rejection.reason.contains("HTTP 500"),
        "{}",
        rejection.reason
    );
    assert_eq!(rejection.response.as_ref().unwrap()["status"], 500);
    println!("31 changes behind a failing entry arrived {behind:?} after it");
    let status = run.progress.snapshot();
    assert_eq!(status.state, RealtimeState::Running, "{status:#?}");

    // Once the destination serves it again, the next change of that entry applies.
    proxy.poison(false);
    slapd.modify(&modify_sn("poison", "Unstuck"));
    wait_until("the next change of the entry", 30, || {
        scim_people(&scim_url, TOKEN)
            .get("poison")
            .map(String::as_str)
            == Some("Unstuck")
    })
    .await;
    run.stop().await;
}

/// An entry whose requests keep failing while its attempts last holds one worker, not the
/// pipe: changes read in later batches go past it, the saved cursor stays before it (a restart
/// re-reads it), and its own later change applies after it, in order.
#[tokio::test]
async fn a_slow_entry_does_not_hold_the_changes_of_later_batches() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let proxy = FaultProxy::start(scim.port);
    let dir = tempfile::tempdir().unwrap();
    let (store, mut config) = setup(&slapd, &proxy.base_url(), dir.path()).await;
    // Its attempts outlast the test: the entry is in flight until the destination serves it.
    config.sync_pipes[0].retry_attempts = 100;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    slapd.modify(&thirty_one_people());
    assert_eq!(resync_pipe(&store, &config, PIPE).await.created, 31);
    let run = RealtimeRun::from_end(&store, &config, PIPE).await;
    let before = store.realtime_cursor(PIPE).await.unwrap();

    proxy.poison(true);
    slapd.modify(&person("poison", "Stuck"));
    change_the_31_behind(&slapd);
    slapd.modify(&modify_sn("poison", "Later"));
    let scim_url = scim.base_url();
    the_31_changed(&scim_url).await;
    assert!(!scim_people(&scim_url, TOKEN).contains_key("poison"));
    assert_eq!(
        store.realtime_cursor(PIPE).await.unwrap(),
        before,
        "the cursor passed a change that is not done"
    );

    proxy.poison(false);
    wait_until("the slow entry, with its later change", 60, || {
        scim_people(&scim_url, TOKEN)
            .get("poison")
            .map(String::as_str)
            == Some("Later")
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.realtime_cursor(PIPE).await.unwrap() == before {
        assert!(Instant::now() < deadline, "the cursor did not move on");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(store.rejections(Some(PIPE), 10).await.unwrap().is_empty());
    run.stop().await;
}

#[tokio::test]
async fn an_oauth_token_endpoint_that_is_down_pauses_the_pipe() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let token_port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let (store, mut config) = setup(&slapd, &scim.base_url(), dir.path()).await;
    config.scim_servers[0].auth = ScimAuth::Oauth2ClientCredentials {
        token_url: format!("http://127.0.0.1:{token_port}/oauth/token"),
        client_id: "client".into(),
        client_secret: Secret::plain("client-secret"),
        scope: None,
    };
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    let run = RealtimeRun::from_end(&store, &config, PIPE).await;

    // No token endpoint: the change waits, it is not rejected.
    slapd.modify(&person("waits", "ForToken"));
    let progress = run.progress.clone();
    wait_until("the pipe waiting for the destination", 20, || {
        progress.snapshot().state == RealtimeState::WaitingForDestination
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let paused = run.progress.snapshot();
    assert_eq!(paused.counts.rejected, 0, "{paused:#?}");
    // The pipe says what is wrong, and since when.
    assert!(
        paused
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("OAuth token request")),
        "{paused:#?}"
    );
    assert!(paused.last_error_at.is_some(), "{paused:#?}");
    assert!(store.rejections(None, 10).await.unwrap().is_empty());

    // The token endpoint comes up: the change goes through.
    let _token = AuthProxy::start_on(
        token_port,
        &scim,
        TOKEN,
        "u",
        "p",
        "client",
        "client-secret",
    );
    let scim_url = scim.base_url();
    wait_until("the change once a token is issued", 60, || {
        scim_people(&scim_url, TOKEN)
            .get("waits")
            .map(String::as_str)
            == Some("ForToken")
    })
    .await;
    assert_eq!(run.progress.snapshot().counts.rejected, 0);
    // Healthy again: the error is gone from the status.
    let progress = run.progress.clone();
    wait_until("the last error cleared", 10, || {
        progress.snapshot().last_error.is_none()
    })
    .await;
    run.stop().await;
}

#[tokio::test]
async fn a_search_answer_without_resources_is_not_taken_for_no_match() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let proxy = FaultProxy::start(scim.port);
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = setup(&slapd, &proxy.base_url(), dir.path()).await;
    slapd.modify(&(person("noresources", "Broken") + &person("fine", "Fine")));
    #[derive(Default)]
    struct Seen(std::sync::Mutex<Vec<engine::sync::EntryResult>>);
    impl engine::sync::ResyncObserver for Seen {
        fn entry(&self, r: &engine::sync::EntryResult) {
            self.0.lock().unwrap().push(r.clone());
        }
    }
    let seen = Arc::new(Seen::default());
    // A filtered resync searches per entry (it does not list the endpoint), so the broken
    // search answer is the one the engine reads.
    let per_entry = ResyncOptions {
        filter: Some("(uid=*)".into()),
        ..ResyncOptions::default()
    };
    let counts = run_resync(
        &store,
        &config,
        PIPE,
        &per_entry,
        &ResyncProgress::default(),
        seen.clone(),
    )
    .await
    .unwrap();
    let results = seen.0.lock().unwrap();
    assert_eq!(counts.found_by_search, 2, "{counts:#?}");
    assert_eq!(
        (counts.created, counts.rejected),
        (1, 1),
        "{counts:#?}\n{results:#?}"
    );
    let rejection = rejection_of(&results, "uid=noresources");
    assert_eq!(rejection.operation, FailedStep::Search);
    assert!(
        rejection.reason.contains("no \"Resources\""),
        "{}",
        rejection.reason
    );
    // Nothing was created for it.
    assert!(!scim_people(&scim.base_url(), TOKEN).contains_key("noresources"));
}

#[tokio::test]
async fn a_retried_resync_rejection_replays_as_resync_and_a_gone_entry_is_dismissed() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let (store, mut config) = setup(&slapd, &scim.base_url(), dir.path()).await;
    // An attribute only resync writes.
    config.attribute_mappings.push(
        serde_json::from_value(serde_json::json!({
            "name": "Title", "scim-attribute-name": "title", "attribute-usage": ["create-during-resync"],
            "syntax": {"type": "string", "ldap-attribute": "title", "single-valued": true}
        }))
        .unwrap(),
    );
    config.endpoint_mappings[0]
        .attribute_mappings
        .push("Title".into());
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    let bad = |uid: &str| {
        format!(
            "dn: uid={uid},ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nobjectClass: scimsyncTestUser\n\
             uid: {uid}\ncn: {uid}\nsn: {uid}\ntitle: Engineer\ntestEmailJSON: not json\n\n"
        )
    };
    slapd.modify(&(bad("fixed") + &bad("gone")));
    let counts = resync_pipe(&store, &config, PIPE).await;
    assert_eq!(counts.rejected, 2, "{counts:#?}");
    let rejections = store.rejections(Some(PIPE), 10).await.unwrap();
    let id_of = |uid: &str| {
        rejections
            .iter()
            .find(|r| r.dn.starts_with(&format!("uid={uid},")))
            .unwrap()
            .id
            .clone()
    };
    slapd.modify(&format!(
        "dn: uid=fixed,ou=people,{SUFFIX}\nchangetype: modify\ndelete: testEmailJSON\n\n\
         dn: uid=gone,ou=people,{SUFFIX}\nchangetype: delete\n\n"
    ));
    // The fixed entry is created as resync would have created it: with the resync-only title.
    let fixed = engine::sync::retry_rejection(&store, &config, &id_of("fixed"))
        .await
        .unwrap();
    assert!(
        matches!(fixed.outcome, EntryOutcome::Created { .. }),
        "{fixed:#?}"
    );
    let users: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}/Users?filter=userName eq \"fixed\"",
            scim.base_url()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users["Resources"][0]["title"], "Engineer", "{users}");
    // The entry that is gone: dismissed as gone, nothing deleted.
    let gone = engine::sync::retry_rejection(&store, &config, &id_of("gone"))
        .await
        .unwrap();
    assert!(
        matches!(gone.outcome, EntryOutcome::Dropped { .. }),
        "{gone:#?}"
    );
    let (_, status) = store.rejection(&id_of("gone")).await.unwrap().unwrap();
    assert_eq!(status, engine::rejection::RejectionStatus::Dismissed);
    assert!(store.rejections(Some(PIPE), 10).await.unwrap().is_empty());
}

/// The store's disk fills up (its SQLite file on a small tmpfs) while changes come: the pipe
/// waits for the store instead of failing, and once there is room again it resumes, with
/// every change applied, none created twice, nothing rejected.
#[tokio::test]
async fn a_full_disk_under_the_store_pauses_the_pipe_until_there_is_room() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let disk = SmallDisk::mount(16);
    let (store, config) = setup(&slapd, &scim.base_url(), disk.path()).await;
    slapd.modify(
        &(0..5)
            .map(|i| person(&format!("f{i}"), "Before"))
            .collect::<String>(),
    );
    assert_eq!(resync_pipe(&store, &config, PIPE).await.created, 5);
    let run = RealtimeRun::from_end(&store, &config, PIPE).await;
    let filler = disk.fill();
    slapd.modify(
        &(5..10)
            .map(|i| person(&format!("f{i}"), "Added"))
            .collect::<String>(),
    );
    let state = || run.progress.snapshot().state;
    wait_until("the pipe waits for the store", 30, || {
        state() == RealtimeState::WaitingForStore
    })
    .await;
    let waiting = run.progress.snapshot();
    assert!(
        waiting
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("the store cannot be reached or written")),
        "{waiting:#?}"
    );
    std::fs::remove_file(filler).unwrap();
    let want = ldap_people(slapd.port);
    let scim_url = scim.base_url();
    wait_until("all 10 at the destination, the pipe running", 30, || {
        scim_people(&scim_url, TOKEN) == want
            && state() == RealtimeState::Running
            && run.progress.snapshot().queue == 0
    })
    .await;
    let status = run.progress.snapshot();
    assert_eq!(status.counts.rejected, 0, "{status:#?}");
    assert_eq!(scim_users(&scim_url, TOKEN).len(), 10, "none created twice");
    assert_eq!(
        store.correlations_after(PIPE, "", 100).await.unwrap().len(),
        10
    );
    run.stop().await;
}
