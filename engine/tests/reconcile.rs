//! Reconciliation against OpenLDAP and scim2-server: `resync --delete-missing` removes exactly
//! the resources scimsync manages whose entries went away (deleted, or moved out of scope)
//! while sync was off, leaves a resource it never managed alone, lists them in a dry run, and
//! stays within the pipe's deletion limit.

use engine::config::Config;
use engine::sync::{ResyncOptions, ResyncProgress};
use std::process::Command;
use test_support::*;

const TOKEN: &str = "reconcile-token";
const PIPE: &str = "LDAP to SCIM";

fn person(uid: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: Person\n\n"
    )
}

fn user_names(scim: &Scim2Server) -> Vec<String> {
    scim_people(&scim.base_url(), TOKEN).into_keys().collect()
}

async fn resync(
    store: &engine::store::Store,
    config: &Config,
    options: ResyncOptions,
) -> Result<engine::sync::ResyncCounts, engine::sync::resync::ResyncError> {
    engine::sync::run_resync(
        store,
        config,
        PIPE,
        &options,
        &ResyncProgress::default(),
        std::sync::Arc::new(()),
    )
    .await
}

#[tokio::test]
async fn delete_missing_removes_exactly_the_managed_resources_whose_entries_are_gone() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let mut config: Config =
        serde_json::from_value(fixture_config(&slapd.address(), &scim.base_url(), TOKEN)).unwrap();
    config.sync_pipes[0].max_deletes_per_hour = Some(2);
    let store = sqlite_store(&dir.path().join("s.db")).await;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    slapd.modify(&(0..6).map(|i| person(&format!("r{i}"))).collect::<String>());
    assert_eq!(resync_pipe(&store, &config, PIPE).await.created, 6);
    // A user scimsync never managed.
    let created = Command::new("curl")
        .args([
            "-sf",
            "-X",
            "POST",
            "-H",
            &format!("Authorization: Bearer {TOKEN}"),
        ])
        .args(["-H", "Content-Type: application/scim+json", "--data"])
        .arg(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"outsider"}"#)
        .arg(format!("{}/Users", scim.base_url()))
        .status()
        .unwrap();
    assert!(created.success());
    // While sync is off: two entries are deleted, one moves out of the class's base DN, and
    // one is deleted and added again (a new entry, with a new id, takes its resource over).
    slapd.modify(&format!(
        "dn: uid=r0,ou=people,{SUFFIX}\nchangetype: delete\n\n\
         dn: uid=r1,ou=people,{SUFFIX}\nchangetype: delete\n\n\
         dn: uid=r2,ou=people,{SUFFIX}\nchangetype: modrdn\nnewrdn: uid=r2\ndeleteoldrdn: 1\nnewsuperior: ou=groups,{SUFFIX}\n\n\
         dn: uid=r3,ou=people,{SUFFIX}\nchangetype: delete\n\n{}",
        person("r3")
    ));
    let everyone = ["outsider", "r0", "r1", "r2", "r3", "r4", "r5"];
    assert_eq!(user_names(&scim), everyone);

    // A dry run lists the three, and changes nothing.
    let dry = ResyncOptions {
        dry_run: true,
        delete_missing: true,
        ..Default::default()
    };
    let listed = resync(&store, &config, dry).await.unwrap();
    assert_eq!((listed.deleted, listed.in_sync), (3, 3), "{listed:?}");
    assert_eq!(user_names(&scim), everyone);

    // For real: the limit lets two go and holds the third.
    let real = ResyncOptions {
        delete_missing: true,
        ..Default::default()
    };
    let done = resync(&store, &config, real.clone()).await.unwrap();
    assert_eq!((done.deleted, done.held), (2, 1), "{done:?}");
    let held = store.held_deletes(Some(PIPE), 10).await.unwrap();
    assert_eq!(held.len(), 1);
    assert!(
        held[0].reason.starts_with("reconciliation: "),
        "{}",
        held[0].reason
    );
    engine::sync::approve_held_delete(&store, &config, &held[0].id)
        .await
        .unwrap();
    assert_eq!(user_names(&scim), ["outsider", "r3", "r4", "r5"]);

    // Nothing is missing now; a filter cannot be combined with it.
    let again = resync(&store, &config, real).await.unwrap();
    assert_eq!(
        (again.deleted, again.held, again.in_sync),
        (0, 0, 3),
        "{again:?}"
    );
    let filtered = ResyncOptions {
        delete_missing: true,
        filter: Some("(uid=r3)".into()),
        ..Default::default()
    };
    let refused = resync(&store, &config, filtered).await.unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("--delete-missing needs a resync of the whole source")
    );
}
