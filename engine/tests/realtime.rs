//! Realtime sync against OpenLDAP's accesslog and 389 DS's Retro Changelog: a scripted stream
//! of adds, modifies, renames, moves and deletes, the sync task killed and restarted in the
//! middle, and the SCIM side equal to the LDAP side at the end.

use engine::config::{ChangelogFlavor, Config};
use engine::store::Store;
use std::time::{Duration, Instant};
use test_support::*;

const TOKEN: &str = "realtime-token";
const PIPE: &str = "LDAP to SCIM";

fn person(uid: &str, sn: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {sn}\n\n"
    )
}

async fn setup(
    ldap_address: String,
    flavour: ChangelogFlavor,
    scim: &Scim2Server,
    dir: &std::path::Path,
) -> (Store, Config) {
    let mut config: Config =
        serde_json::from_value(fixture_config(&ldap_address, &scim.base_url(), TOKEN)).unwrap();
    config.ldap_sources[0].changelog = flavour;
    // People anywhere under the source's base DNs, so moves between the OUs stay in scope.
    config.sync_classes[0].include_base_dns.clear();
    let store = sqlite_store(&dir.join("s.db")).await;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    (store, config)
}

async fn stream_and_check(ldap_port: u16, flavour: ChangelogFlavor, modify: impl Fn(&str)) {
    let ldap_address = format!("127.0.0.1:{ldap_port}");
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = setup(ldap_address, flavour, &scim, dir.path()).await;

    // Step 10, then 9, then 11: resync what exists, start realtime at the end of the changelog.
    modify(
        &(0..20)
            .map(|i| person(&format!("p{i:02}"), "Before"))
            .collect::<String>(),
    );
    let resynced = resync_pipe(&store, &config, PIPE).await;
    assert_eq!(resynced.created, 20);
    let run = RealtimeRun::from_end(&store, &config, PIPE).await;

    // First half of the stream.
    let mut ldif: String = (0..5)
        .map(|i| person(&format!("new{i}"), "Added"))
        .collect();
    for i in 0..5 {
        ldif += &format!(
            "dn: uid=p{i:02},ou=people,{SUFFIX}\nchangetype: modify\nreplace: sn\nsn: Modified\n\n"
        );
    }
    modify(&ldif);
    // "kill -9": the task is dropped wherever it is; nothing is shut down cleanly.
    tokio::time::sleep(Duration::from_millis(300)).await;
    run.kill().await;

    // Second half while nothing runs: renames, moves, deletes, and an entry that comes and goes.
    let mut ldif = String::new();
    for i in 5..8 {
        ldif += &format!(
            "dn: uid=p{i:02},ou=people,{SUFFIX}\nchangetype: modrdn\nnewrdn: uid=renamed{i}\ndeleteoldrdn: 1\n\n"
        );
    }
    for i in 8..10 {
        ldif += &format!(
            "dn: uid=p{i:02},ou=people,{SUFFIX}\nchangetype: modrdn\nnewrdn: uid=p{i:02}\ndeleteoldrdn: 1\nnewsuperior: ou=groups,{SUFFIX}\n\n\
             dn: uid=p{i:02},ou=groups,{SUFFIX}\nchangetype: modify\nreplace: sn\nsn: Moved\n\n"
        );
    }
    for i in 10..13 {
        ldif += &format!("dn: uid=p{i:02},ou=people,{SUFFIX}\nchangetype: delete\n\n");
    }
    ldif += &person("fleeting", "Gone");
    ldif += &format!("dn: uid=fleeting,ou=people,{SUFFIX}\nchangetype: delete\n\n");
    ldif += &format!(
        "dn: uid=renamed5,ou=people,{SUFFIX}\nchangetype: modify\nreplace: sn\nsn: RenamedThenModified\n\n"
    );
    modify(&ldif);

    // Restarted, it resumes from the last checkpoint and catches up.
    let run = RealtimeRun::start(&store, &config, PIPE);
    let progress = &run.progress;
    let want = ldap_people(ldap_port);
    assert_eq!(want.len(), 20 + 5 - 3, "{want:?}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Changes that change nothing visible (the fleeting entry) may still be in flight
        // when the resources match: done means both.
        let got = scim_people(&scim.base_url(), TOKEN);
        if got == want && progress.snapshot().queue == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "SCIM side differs from LDAP side:\nLDAP {want:?}\nSCIM {got:?}\nstatus {:#?}",
            progress.snapshot()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let status = progress.snapshot();
    assert_eq!(status.counts.rejected, 0, "{status:#?}");
    assert!(store.rejections(None, 10).await.unwrap().is_empty());
    run.stop().await;
    // The log of changes has the stream: each new entry, each delete.
    let logged = store
        .logged_changes(&engine::store::SyncLogFilter {
            pipe: Some(PIPE.into()),
            limit: 10_000,
            ..Default::default()
        })
        .await
        .unwrap();
    let realtime = |dn: &str| {
        logged
            .iter()
            .filter(|c| c.phase == engine::rejection::Phase::Realtime && c.dn.starts_with(dn))
            .map(|c| c.outcome)
            .collect::<Vec<_>>()
    };
    for i in 0..5 {
        assert!(!realtime(&format!("uid=new{i},")).is_empty(), "{logged:#?}");
    }
    for i in 10..13 {
        assert!(
            realtime(&format!("uid=p{i:02},")).contains(&engine::report::ChangeOutcome::Deleted),
            "{logged:#?}"
        );
    }
    // The checkpoint moved past everything: another run finds nothing to do.
    let run = RealtimeRun::start(&store, &config, PIPE);
    let progress = &run.progress;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        progress.snapshot().counts.changes,
        0,
        "{:#?}",
        progress.snapshot()
    );
    run.stop().await;
}

#[tokio::test]
async fn openldap_accesslog_stream_with_a_crash_in_the_middle() {
    let slapd = Slapd::start();
    stream_and_check(slapd.port, ChangelogFlavor::OpenldapAccesslog, |ldif| {
        slapd.modify(ldif)
    })
    .await;
}

#[tokio::test]
async fn ds389_retro_changelog_stream_with_a_crash_in_the_middle() {
    let ds = Ds389::start();
    stream_and_check(ds.port, ChangelogFlavor::DraftGood, |ldif| ds.modify(ldif)).await;
}

/// Waits up to 10 s for `uid` to be at the destination with `sn`.
async fn arrives(
    scim: &Scim2Server,
    uid: &str,
    sn: &str,
    progress: &engine::sync::RealtimeProgress,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while scim_people(&scim.base_url(), TOKEN)
        .get(uid)
        .map(String::as_str)
        != Some(sn)
    {
        assert!(
            Instant::now() < deadline,
            "{uid} did not arrive: {:#?}",
            progress.snapshot()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// With polling set to a minute, a change still arrives within seconds: the source pushes it
/// (persistent search on 389 DS's changelog, syncrepl on OpenLDAP's accesslog).
async fn a_pushed_change_arrives_with_polling_set_to_a_minute(
    ldap_port: u16,
    flavour: ChangelogFlavor,
    modify: impl Fn(&str),
) {
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let (store, mut config) =
        setup(format!("127.0.0.1:{ldap_port}"), flavour, &scim, dir.path()).await;
    config.sync_pipes[0].polling_interval_ms = 60_000;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    modify(&person("before", "Before"));
    let run = RealtimeRun::from_end(&store, &config, PIPE).await;
    let progress = &run.progress;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !progress.snapshot().pushed {
        assert!(
            Instant::now() < deadline,
            "the source does not push: {:#?}",
            progress.snapshot()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Polling would next read in a minute; the push brings it now.
    for (uid, sn) in [("pushed", "Pushed"), ("again", "Again")] {
        modify(&person(uid, sn));
        arrives(&scim, uid, sn, progress).await;
    }
    assert!(!scim_people(&scim.base_url(), TOKEN).contains_key("before"));
    assert!(progress.snapshot().pushed);
    run.stop().await;

    // With push-changes off, the source is not asked: changes are polled.
    let mut config = config;
    config.ldap_sources[0].push_changes = false;
    config.sync_pipes[0].polling_interval_ms = 100;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    let run = RealtimeRun::start(&store, &config, PIPE);
    modify(&person("polled", "Polled"));
    arrives(&scim, "polled", "Polled", &run.progress).await;
    assert!(
        !run.progress.snapshot().pushed,
        "{:#?}",
        run.progress.snapshot()
    );
    run.stop().await;
}

#[tokio::test]
async fn openldap_pushes_accesslog_records_to_a_syncrepl_search() {
    let slapd = Slapd::start();
    a_pushed_change_arrives_with_polling_set_to_a_minute(
        slapd.port,
        ChangelogFlavor::OpenldapAccesslog,
        |ldif| slapd.modify(ldif),
    )
    .await;
}

#[tokio::test]
async fn ds389_pushes_changelog_records_to_a_persistent_search() {
    let ds = Ds389::start();
    a_pushed_change_arrives_with_polling_set_to_a_minute(
        ds.port,
        ChangelogFlavor::DraftGood,
        |ldif| ds.modify(ldif),
    )
    .await;
}

#[tokio::test]
async fn a_30_second_destination_outage_pauses_the_pipe_and_loses_nothing() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let proxy = RateLimitingProxy::start(scim.port, 10_000);
    let proxy_port = proxy.port;
    let dir = tempfile::tempdir().unwrap();
    let (store, mut config) = setup(
        slapd.address(),
        ChangelogFlavor::OpenldapAccesslog,
        &scim,
        dir.path(),
    )
    .await;
    config.scim_servers[0].base_url = format!("http://127.0.0.1:{proxy_port}/v2");
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    let run = RealtimeRun::from_end(&store, &config, PIPE).await;
    let progress = &run.progress;

    slapd.modify(&person("before", "Outage"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while scim_people(&scim.base_url(), TOKEN).is_empty() {
        assert!(Instant::now() < deadline, "the first change never arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The destination goes away for 30 s while changes keep coming.
    drop(proxy);
    let outage = Instant::now();
    slapd.modify(
        &(0..5)
            .map(|i| person(&format!("during{i}"), "Outage"))
            .collect::<String>(),
    );
    slapd.modify(&format!("dn: uid=before,ou=people,{SUFFIX}\nchangetype: modify\nreplace: sn\nsn: Changed during the outage\n\n"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while progress.snapshot().state != engine::sync::RealtimeState::WaitingForDestination {
        assert!(
            Instant::now() < deadline,
            "the pipe never noticed the outage: {:#?}",
            progress.snapshot()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(30).saturating_sub(outage.elapsed())).await;
    let paused = progress.snapshot();
    assert!(
        paused.counts.retries > 0 && paused.counts.rejected == 0,
        "{paused:#?}"
    );
    assert_eq!(
        paused.state,
        engine::sync::RealtimeState::WaitingForDestination
    );
    let _proxy = RateLimitingProxy::start_on(proxy_port, scim.port, 10_000);

    // Back: everything arrives, nothing is rejected.
    let want = ldap_people(slapd.port);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if scim_people(&scim.base_url(), TOKEN) == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not caught up after the outage: {:#?}",
            progress.snapshot()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let after = progress.snapshot();
    assert_eq!(after.counts.rejected, 0, "{after:#?}");
    assert_eq!(after.state, engine::sync::RealtimeState::Running);
    assert!(store.rejections(None, 10).await.unwrap().is_empty());
    run.stop().await;
}
