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

/// The store's correlations of the pipe, by entry id.
async fn correlations(store: &Store) -> Vec<engine::store::Correlation> {
    store.correlations_after(PIPE, "", 10_000).await.unwrap()
}

/// `attribute` of the entry at `dn`, read as the sync user.
fn id_of(ldap_port: u16, dn: &str, attribute: &str) -> String {
    let found = ldap_search(ldap_port, dn, "(objectClass=*)", &[attribute]);
    let (_, values) = found
        .iter()
        .find(|(d, _)| d.eq_ignore_ascii_case(dn))
        .unwrap_or_else(|| panic!("{dn} is not in the directory: {found:?}"));
    values
        .get(&attribute.to_ascii_lowercase())
        .and_then(|v| v.first())
        .unwrap_or_else(|| panic!("{dn} has no {attribute}: {values:?}"))
        .clone()
}

fn modrdn(uid: &str, ou: &str, new_uid: &str, new_ou: Option<&str>) -> String {
    let superior = new_ou
        .map(|o| format!("newsuperior: ou={o},{SUFFIX}\n"))
        .unwrap_or_default();
    format!(
        "dn: uid={uid},ou={ou},{SUFFIX}\nchangetype: modrdn\nnewrdn: uid={new_uid}\ndeleteoldrdn: 1\n{superior}\n"
    )
}

/// Entries that leave scope lose their resource, whichever attribute the directory keys its
/// entries by: one moved (modrdn + newsuperior) into ou=groups, whose class takes only groups;
/// one renamed and then moved there; one that stops matching its class's filter; one deleted.
/// Afterwards the store holds exactly one correlation per entry in scope, keyed by the id the
/// source's changelog records (`id_attribute`), and a resync with --delete-missing removes
/// nothing. A changelog that records no entry id (`recorded` false) is named by Test
/// connection, and a deleted entry's resource is found by its DN.
async fn leaving_scope_ends_access(
    ldap_port: u16,
    flavour: ChangelogFlavor,
    id_attribute: &str,
    recorded: bool,
    modify: impl Fn(&str),
) {
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let mut config: Config = serde_json::from_value(fixture_config(
        &format!("127.0.0.1:{ldap_port}"),
        &scim.base_url(),
        TOKEN,
    ))
    .unwrap();
    config.ldap_sources[0].changelog = flavour;
    config.sync_classes[0].include_filter =
        Some("(&(objectClass=inetOrgPerson)(!(description=left)))".into());
    let store = sqlite_store(&dir.path().join("s.db")).await;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();

    let people = ["stays", "renamed", "mover", "filtered", "twostep", "doomed"];
    modify(
        &people
            .iter()
            .map(|uid| person(uid, "Before"))
            .collect::<String>(),
    );
    let resynced = resync_pipe(&store, &config, PIPE).await;
    assert_eq!(resynced.created, 6, "{resynced:#?}");
    let run = RealtimeRun::from_end(&store, &config, PIPE).await;
    modify(
        &[
            modrdn("renamed", "people", "renamed2", None),
            modrdn("mover", "people", "mover", Some("groups")),
            format!(
                "dn: uid=filtered,ou=people,{SUFFIX}\nchangetype: modify\nadd: description\ndescription: left\n\n"
            ),
            modrdn("twostep", "people", "twostep2", None),
            modrdn("twostep2", "people", "twostep2", Some("groups")),
            format!("dn: uid=doomed,ou=people,{SUFFIX}\nchangetype: delete\n\n"),
        ]
        .concat(),
    );
    let want: std::collections::BTreeSet<String> = ["stays", "renamed2"].map(String::from).into();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got: std::collections::BTreeSet<String> =
            scim_people(&scim.base_url(), TOKEN).into_keys().collect();
        if got == want && run.progress.snapshot().queue == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "SCIM holds {got:?}, want {want:?}:\n{:#?}\ncorrelations {:#?}",
            run.progress.snapshot(),
            correlations(&store).await
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let status = run.progress.snapshot();
    assert_eq!(status.counts.rejected, 0, "{status:#?}");
    run.stop().await;

    // One correlation per entry in scope, under the id the changelog records, at its DN now.
    let kept = correlations(&store).await;
    let mut dns: Vec<String> = kept.iter().map(|c| c.dn.clone()).collect();
    dns.sort();
    assert_eq!(
        dns,
        [
            format!("uid=renamed2,ou=people,{SUFFIX}"),
            format!("uid=stays,ou=people,{SUFFIX}")
        ],
        "{kept:#?}"
    );
    for c in &kept {
        assert_eq!(c.entry_id, id_of(ldap_port, &c.dn, id_attribute), "{c:#?}");
    }

    // A reconciliation finds nothing to remove: every managed resource's entry is in scope.
    let options = engine::sync::ResyncOptions {
        delete_missing: true,
        ..Default::default()
    };
    let counts = engine::sync::run_resync(
        &store,
        &config,
        PIPE,
        &options,
        &engine::sync::ResyncProgress::default(),
        std::sync::Arc::new(()),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            counts.deleted,
            counts.deactivated,
            counts.held,
            counts.in_sync
        ),
        (0, 0, 0, 2),
        "{counts:#?}"
    );
    let got: std::collections::BTreeSet<String> =
        scim_people(&scim.base_url(), TOKEN).into_keys().collect();
    assert_eq!(got, want);
    assert_eq!(correlations(&store).await.len(), 2);

    // The log of changes says how the deleted entry's resource was found.
    let logged = store
        .logged_changes(&engine::store::SyncLogFilter {
            pipe: Some(PIPE.into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let doomed = logged
        .iter()
        .find(|c| c.dn.starts_with("uid=doomed,"))
        .unwrap_or_else(|| panic!("{logged:#?}"));
    assert_eq!(doomed.outcome, engine::report::ChangeOutcome::Deleted);
    let by_dn = doomed.summary.contains("found by the entry's DN");
    assert_eq!(by_dn, !recorded, "{}", doomed.summary);
    // Test connection names the id, and whether the changelog records it.
    let report = engine::ldap::probe(&config.ldap_sources[0], store.cipher())
        .await
        .unwrap();
    let said = report.entry_ids.unwrap_or_default();
    assert!(said.starts_with(id_attribute), "{said}");
    assert_eq!(
        said.contains("records with each change"),
        recorded,
        "{said}"
    );
    let problems = report.problems.join("\n");
    assert_eq!(
        problems.contains("records no entry id"),
        !recorded,
        "{problems}"
    );
}

#[tokio::test]
async fn openldap_entries_leaving_scope_lose_their_resource() {
    let slapd = Slapd::start();
    leaving_scope_ends_access(
        slapd.port,
        ChangelogFlavor::OpenldapAccesslog,
        "entryUUID",
        true,
        |ldif| slapd.modify(ldif),
    )
    .await;
}

#[tokio::test]
async fn ds389_entries_leaving_scope_lose_their_resource() {
    let ds = Ds389::start();
    leaving_scope_ends_access(
        ds.port,
        ChangelogFlavor::DraftGood,
        "nsUniqueId",
        true,
        |ldif| ds.modify(ldif),
    )
    .await;
}

/// 389 DS's Retro Changelog as it comes (no targetUniqueId in its records): entries are still
/// keyed by nsUniqueId, read from them, and a delete finds its resource by the entry's DN.
#[tokio::test]
async fn ds389_without_recorded_ids_entries_leaving_scope_lose_their_resource() {
    let ds = Ds389::start_without_recorded_ids();
    leaving_scope_ends_access(
        ds.port,
        ChangelogFlavor::DraftGood,
        "nsUniqueId",
        false,
        |ldif| ds.modify(ldif),
    )
    .await;
}

/// A store written before a pipe's entry ids were settled: resync kept 389 DS entries by
/// entryUUID while realtime kept a renamed entry by nsUniqueId (its changelog's
/// targetUniqueId), so that entry has two correlations. At start they are re-keyed and merged:
/// one per entry, under nsUniqueId, at the entry's DN now, and no resource is deleted or
/// created. Entries that then leave scope lose their resource.
#[tokio::test]
async fn ds389_store_keyed_by_both_ids_is_repaired_at_start() {
    let ds = Ds389::start();
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = setup(ds.address(), ChangelogFlavor::DraftGood, &scim, dir.path()).await;
    ds.modify(
        &(0..6)
            .map(|i| person(&format!("p{i}"), "Before"))
            .collect::<String>(),
    );
    assert_eq!(resync_pipe(&store, &config, PIPE).await.created, 6);
    let resources: std::collections::BTreeMap<String, String> = scim_users(&scim.base_url(), TOKEN)
        .iter()
        .map(|u| {
            (
                u["userName"].as_str().unwrap().to_owned(),
                u["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let dn = |uid: &str| format!("uid={uid},ou=people,{SUFFIX}");

    // The store as the earlier release left it, after p5 was renamed to moved5 in realtime.
    let old_dir = tempfile::tempdir().unwrap();
    let (old, old_config) = setup(
        ds.address(),
        ChangelogFlavor::DraftGood,
        &scim,
        old_dir.path(),
    )
    .await;
    for i in 0..6 {
        let uid = format!("p{i}");
        old.remember_resource(
            PIPE,
            &engine::store::Correlation {
                entry_id: id_of(ds.port, &dn(&uid), "entryUUID"),
                dn: dn(&uid),
                endpoint: "/Users".into(),
                scim_id: resources[&uid].clone(),
                class: "People".into(),
                display: None,
            },
        )
        .await
        .unwrap();
    }
    ds.modify(&modrdn("p5", "people", "moved5", None));
    old.remember_resource(
        PIPE,
        &engine::store::Correlation {
            entry_id: id_of(ds.port, &dn("moved5"), "nsUniqueId"),
            dn: dn("moved5"),
            endpoint: "/Users".into(),
            scim_id: resources["p5"].clone(),
            class: "People".into(),
            display: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(correlations(&old).await.len(), 7);

    let run = RealtimeRun::from_end(&old, &old_config, PIPE).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while run.progress.snapshot().state != engine::sync::RealtimeState::Running {
        assert!(Instant::now() < deadline, "{:#?}", run.progress.snapshot());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kept = correlations(&old).await;
    assert_eq!(kept.len(), 6, "{kept:#?}");
    for c in &kept {
        assert_eq!(c.entry_id, id_of(ds.port, &c.dn, "nsUniqueId"), "{c:#?}");
    }
    let moved = kept.iter().find(|c| c.dn == dn("moved5")).expect("moved5");
    assert_eq!(moved.scim_id, resources["p5"]);
    // Nothing was deleted or created: the same resources, by id.
    let now: std::collections::BTreeSet<String> = scim_users(&scim.base_url(), TOKEN)
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(now, resources.values().cloned().collect());

    // p0 moves out of scope (the class now takes only ou=people), p1 is deleted.
    let mut narrow = old_config.clone();
    narrow.sync_classes[0].include_base_dns = vec![format!("ou=people,{SUFFIX}")];
    run.stop().await;
    old.replace_all(narrow).await.unwrap();
    let narrow = old.load_config().await.unwrap();
    let run = RealtimeRun::start(&old, &narrow, PIPE);
    ds.modify(&format!(
        "{}dn: uid=p1,ou=people,{SUFFIX}\nchangetype: delete\n\n",
        modrdn("p0", "people", "p0", Some("groups"))
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got: std::collections::BTreeSet<String> =
            scim_people(&scim.base_url(), TOKEN).into_keys().collect();
        // moved5's resource keeps its userName until the entry changes: the repair only
        // re-keys the store.
        if got == ["p2", "p3", "p4", "p5"].map(String::from).into() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "SCIM holds {got:?}: {:#?}",
            run.progress.snapshot()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    run.stop().await;
    assert_eq!(correlations(&old).await.len(), 4);
}
