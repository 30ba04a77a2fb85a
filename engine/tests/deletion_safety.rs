//! Deletion safety against OpenLDAP and scim2-server: a delete storm beyond the pipe's hourly
//! limit is held (the resources stay), then approved — an entry that came back meanwhile is
//! kept — or discarded; and a class that deactivates instead of deleting.

use engine::config::{ChangelogFlavor, Config, DeleteAction};
use engine::report::RealtimeCounts;
use engine::store::Store;
use std::time::{Duration, Instant};
use test_support::*;

const TOKEN: &str = "deletion-token";
const PIPE: &str = "LDAP to SCIM";

fn person(uid: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: Person\n\n"
    )
}

fn delete(uid: &str) -> String {
    format!("dn: uid={uid},ou=people,{SUFFIX}\nchangetype: delete\n\n")
}

async fn setup(
    slapd: &Slapd,
    scim: &Scim2Server,
    dir: &std::path::Path,
    change: impl FnOnce(&mut Config),
) -> (Store, Config) {
    let mut config: Config =
        serde_json::from_value(fixture_config(&slapd.address(), &scim.base_url(), TOKEN)).unwrap();
    config.ldap_sources[0].changelog = ChangelogFlavor::OpenldapAccesslog;
    change(&mut config);
    let store = sqlite_store(&dir.join("s.db")).await;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    (store, config)
}

/// Waits up to 20 s for the run's counts to satisfy `done`.
async fn counts_reach(run: &RealtimeRun, what: &str, done: impl Fn(&RealtimeCounts) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(&run.progress.snapshot().counts) {
        assert!(
            Instant::now() < deadline,
            "{what}: {:#?}",
            run.progress.snapshot()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn uids(people: &std::collections::BTreeMap<String, String>) -> Vec<String> {
    people.keys().cloned().collect()
}

#[tokio::test]
async fn a_delete_storm_stops_at_the_limit_and_waits_for_an_admin() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = setup(&slapd, &scim, dir.path(), |c| {
        c.sync_pipes[0].max_deletes_per_hour = Some(3);
    })
    .await;
    let all: Vec<String> = (0..10).map(|i| format!("d{i}")).collect();
    slapd.modify(&all.iter().map(|u| person(u)).collect::<String>());
    assert_eq!(resync_pipe(&store, &config, PIPE).await.created, 10);
    let run = RealtimeRun::from_end(&store, &config, PIPE).await;

    // Seven entries go at once (a mistaken filter, a bad import): three deletes apply.
    slapd.modify(&all[..7].iter().map(|u| delete(u)).collect::<String>());
    counts_reach(&run, "three deleted, four held", |c| {
        c.deleted == 3 && c.held == 4
    })
    .await;
    let at_scim = scim_people(&scim.base_url(), TOKEN);
    assert_eq!(at_scim.len(), 7, "{at_scim:?}");
    let held = store.held_deletes(Some(PIPE), 100).await.unwrap();
    assert_eq!(held.len(), 4);
    for h in &held {
        let uid = h.dn.trim_start_matches("uid=").split(',').next().unwrap();
        assert!(
            at_scim.contains_key(uid),
            "{uid} is held, so its resource stays"
        );
        assert_eq!(h.action, DeleteAction::Delete);
        assert!(
            h.reason.starts_with("the entry was deleted; "),
            "{}",
            h.reason
        );
    }

    // Meanwhile one held entry comes back; the admin discards another and approves the rest.
    let back = held[0]
        .dn
        .trim_start_matches("uid=")
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    slapd.modify(&person(&back));
    counts_reach(&run, "the entry that came back is synchronised", |c| {
        c.modified + c.in_sync >= 1
    })
    .await;
    let discarded = &held[1];
    assert!(
        engine::sync::discard_held_delete(&store, &discarded.id)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        engine::sync::discard_held_delete(&store, &discarded.id)
            .await
            .unwrap()
            .is_none()
    );
    for h in [&held[0], &held[2], &held[3]] {
        let (approved, result) = engine::sync::approve_held_delete(&store, &config, &h.id)
            .await
            .unwrap();
        assert_eq!(approved.id, h.id);
        let want = if *h == held[0] {
            "already in sync"
        } else {
            "deleted"
        };
        assert_eq!(result.outcome.describe(), want, "{result:?}");
    }
    assert!(
        store
            .held_deletes(Some(PIPE), 100)
            .await
            .unwrap()
            .is_empty()
    );
    // The entry that came back is a new entry: its old correlation went with the approval.
    let old_id = held[0].entry_id.as_deref().unwrap();
    assert_eq!(store.find_resource(PIPE, old_id).await.unwrap(), None);
    let discarded_uid = discarded
        .dn
        .trim_start_matches("uid=")
        .split(',')
        .next()
        .unwrap();
    let mut want = uids(&ldap_people(slapd.port));
    want.push(discarded_uid.to_owned());
    want.sort();
    assert_eq!(uids(&scim_people(&scim.base_url(), TOKEN)), want);

    // Nothing is held now, but the hour's three deletes are used: the next one is held too.
    slapd.modify(&delete(&all[9]));
    counts_reach(&run, "the next delete is held", |c| c.held == 5).await;
    assert!(scim_people(&scim.base_url(), TOKEN).contains_key(&all[9]));
    run.stop().await;
    // The log of changes has what was held and what the approvals did.
    let logged = store
        .logged_changes(&engine::store::SyncLogFilter {
            pipe: Some(PIPE.into()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let count = |o: engine::report::ChangeOutcome| logged.iter().filter(|c| c.outcome == o).count();
    assert_eq!(count(engine::report::ChangeOutcome::Held), 5, "{logged:#?}");
    assert_eq!(
        count(engine::report::ChangeOutcome::Deleted),
        3 + 2,
        "{logged:#?}"
    );
}

#[tokio::test]
async fn a_class_that_deactivates_keeps_the_user_inactive_until_the_entry_is_back() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = setup(&slapd, &scim, dir.path(), |c| {
        c.sync_classes[0].delete_action = DeleteAction::Deactivate;
    })
    .await;
    let run = RealtimeRun::from_end(&store, &config, PIPE).await;
    let user = |uid: &str| {
        scim_users(&scim.base_url(), TOKEN)
            .into_iter()
            .find(|u| u["userName"] == uid)
    };
    slapd.modify(&person("leaver"));
    counts_reach(&run, "created", |c| c.created == 1).await;
    let id = user("leaver").unwrap()["id"].clone();
    assert_eq!(user("leaver").unwrap()["active"], true);
    slapd.modify(&delete("leaver"));
    counts_reach(&run, "deactivated", |c| c.deactivated == 1).await;
    let kept = user("leaver").expect("the resource stays");
    assert_eq!(
        (&kept["id"], &kept["active"]),
        (&id, &serde_json::json!(false))
    );
    // Back in the directory (a new entry, the same userName): the same user, active again.
    slapd.modify(&person("leaver"));
    counts_reach(&run, "back", |c| c.modified == 1).await;
    let back = user("leaver").unwrap();
    assert_eq!(
        (&back["id"], &back["active"]),
        (&id, &serde_json::json!(true))
    );
    run.stop().await;
}
