//! SCIM Bulk (RFC 7644 §3.7) against a real scim2-server, through nginx
//! (scripts/testenv/nginx-bulk.sh) that logs every request and, per test, answers 413 above a
//! body size or offers no Bulk: resync writes in Bulk requests, one failed operation is that
//! entry's rejection with its own answer while the rest succeed, a 413 halves the requests,
//! and a destination without Bulk (or with use-bulk off) gets single requests.

use engine::config::{ChangelogFlavor, Config};
use engine::rejection::FailedStep;
use engine::store::Store;
use serde_json::{Value, json};
use test_support::*;

const TOKEN: &str = "bulk-token";
const PIPE: &str = "LDAP to SCIM";

fn people(count: usize, sn: &str) -> String {
    (0..count)
        .map(|i| person(&format!("p{i:03}"), sn))
        .collect()
}

fn person(uid: &str, sn: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid} {sn}\nsn: {sn}\nmail: {uid}@example.com\n\n"
    )
}

fn new_sn(count: usize, sn: &str) -> String {
    (0..count)
        .map(|i| {
            format!(
                "dn: uid=p{i:03},ou=people,{SUFFIX}\nchangetype: modify\nreplace: sn\nsn: {sn}\n\n"
            )
        })
        .collect()
}

/// The fixture configuration against `scim_base_url`; with `by_external_id`, resources are
/// found by externalId (the uid) rather than userName, so an entry whose userName another
/// resource holds is created — and refused.
async fn setup(
    slapd: &Slapd,
    scim_base_url: &str,
    dir: &std::path::Path,
    by_external_id: bool,
) -> (Store, Config) {
    let mut value = fixture_config(&slapd.address(), scim_base_url, TOKEN);
    if by_external_id {
        value["attribute-mappings"]
            .as_array_mut()
            .unwrap()
            .push(json!({
                "name": "External Id",
                "scim-attribute-name": "externalId",
                "attribute-usage": ["fetch", "create-during-resync", "update-during-resync",
                    "create-during-realtime-sync", "update-during-realtime-sync"],
                "syntax": {"type": "string", "ldap-attribute": "uid", "single-valued": true}
            }));
        let users = &mut value["endpoint-mappings"][0];
        users["attribute-mappings"]
            .as_array_mut()
            .unwrap()
            .push(json!("External Id"));
        users["search-attribute-mappings"] = json!(["External Id"]);
    }
    let mut config: Config = serde_json::from_value(value).unwrap();
    config.ldap_sources[0].changelog = ChangelogFlavor::OpenldapAccesslog;
    config.sync_pipes[0].retry_attempts = 2;
    let store = sqlite_store(&dir.join("s.db")).await;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    (store, config)
}

async fn create_user(scim: &Scim2Server, user_name: &str) {
    let response = reqwest::Client::new()
        .post(format!("{}/Users", scim.base_url()))
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .body(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
}

#[tokio::test]
async fn resync_writes_in_bulk_and_a_failed_operation_is_that_entry_s_rejection() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let proxy = ShapingProxy::start(scim.port, ServiceShape::Pass);
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = setup(&slapd, &proxy.base_url(), dir.path(), true).await;
    // "taken"'s userName is another resource's already: its create is refused (409).
    create_user(&scim, "taken").await;
    slapd.modify(&(people(60, "Before") + &person("taken", "Before")));

    let counts = resync_pipe(&store, &config, PIPE).await;
    assert_eq!((counts.created, counts.rejected), (60, 1), "{counts:#?}");
    let bulk = proxy.count("POST /v2/Bulk", Some(200));
    let alone = proxy.count("POST /v2/Users", None);
    println!("61 creates: {bulk} Bulk requests, {alone} creates alone");
    assert!(bulk >= 1, "no Bulk request was sent");
    assert!(
        alone < 30,
        "{alone} creates went alone; the rest in {bulk} Bulk requests"
    );
    let open = store.rejections(Some(PIPE), 10).await.unwrap();
    assert_eq!(open.len(), 1, "{open:#?}");
    let rejection = &open[0];
    assert!(rejection.dn.starts_with("uid=taken"), "{rejection:#?}");
    assert_eq!(rejection.operation, FailedStep::Create);
    let response = rejection.response.as_ref().expect("the operation's answer");
    assert_eq!(response["status"], 409, "{response}");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["scimType"], "uniqueness", "{body}");
    let before = scim_people(&scim.base_url(), TOKEN);
    assert_eq!(before.get("p042").map(String::as_str), Some("Before"));

    // Updates go in Bulk too: 60 PATCHes.
    slapd.modify(&new_sn(60, "After"));
    let counts = resync_pipe(&store, &config, PIPE).await;
    assert_eq!((counts.modified, counts.rejected), (60, 1), "{counts:#?}");
    assert!(proxy.count("POST /v2/Bulk", Some(200)) > bulk);
    assert!(proxy.count("PATCH /v2/Users/", None) < 30);
    let after = scim_people(&scim.base_url(), TOKEN);
    assert_eq!(
        after.values().filter(|sn| *sn == "After").count(),
        60,
        "{after:?}"
    );
}

#[tokio::test]
async fn a_413_halves_the_bulk_requests_and_every_entry_is_written() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    // The service says 1 MiB; the proxy in front takes 8 KB.
    let proxy = ShapingProxy::start(scim.port, ServiceShape::BulkBodyAtMost(8));
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = setup(&slapd, &proxy.base_url(), dir.path(), false).await;
    slapd.modify(&people(150, "Before"));

    let counts = resync_pipe(&store, &config, PIPE).await;
    assert_eq!((counts.created, counts.rejected), (150, 0), "{counts:#?}");
    let refused = proxy.count("POST /v2/Bulk", Some(413));
    let sent = proxy.count("POST /v2/Bulk", Some(200));
    println!("150 creates: {refused} Bulk requests refused (413), {sent} sent");
    assert!(refused >= 1, "no Bulk request was too large");
    assert!(sent >= 2, "{sent} Bulk requests went through");
    // Halving means the refusals stop: far fewer than the requests that went through.
    assert!(refused <= sent, "{refused} refused, {sent} sent");
    assert_eq!(scim_people(&scim.base_url(), TOKEN).len(), 150);
}

#[tokio::test]
async fn a_destination_without_bulk_or_with_use_bulk_off_gets_single_requests() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let without = ShapingProxy::start(scim.port, ServiceShape::NoBulk);
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = setup(&slapd, &without.base_url(), dir.path(), false).await;
    slapd.modify(&people(20, "Before"));
    let counts = resync_pipe(&store, &config, PIPE).await;
    assert_eq!((counts.created, counts.rejected), (20, 0), "{counts:#?}");
    assert_eq!(without.count("POST /v2/Bulk", None), 0);
    assert_eq!(without.count("POST /v2/Users", None), 20);

    // The service offers Bulk, but the destination says not to use it.
    let offered = ShapingProxy::start(scim.port, ServiceShape::Pass);
    let dir = tempfile::tempdir().unwrap();
    let (store, mut config) = setup(&slapd, &offered.base_url(), dir.path(), false).await;
    config.scim_destinations[0].use_bulk = false;
    slapd.modify(&new_sn(20, "After"));
    let counts = resync_pipe(&store, &config, PIPE).await;
    assert_eq!((counts.modified, counts.rejected), (20, 0), "{counts:#?}");
    assert_eq!(offered.count("POST /v2/Bulk", None), 0);
    assert_eq!(offered.count("PATCH /v2/Users/", None), 20);
}
