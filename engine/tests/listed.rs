//! Listed correlation against a real scim2-server, through nginx (scripts/testenv/nginx-bulk.sh)
//! that logs every request: a resync lists each endpoint once and needs no request for an
//! entry in sync, one GET for a changed one, a search only where the listing cannot tell
//! (a case-folded match); a destination that caps its lists is searched entry by entry.

use engine::config::{ChangelogFlavor, Config};
use engine::store::Store;
use serde_json::json;
use test_support::*;

const TOKEN: &str = "listed-token";
const PIPE: &str = "LDAP to SCIM";

fn person(uid: &str, sn: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid} {sn}\nsn: {sn}\nmail: {uid}@example.com\n\n"
    )
}

fn people(count: usize) -> String {
    (0..count)
        .map(|i| person(&format!("p{i:03}"), "Before"))
        .collect()
}

async fn setup(slapd: &Slapd, scim_base_url: &str, dir: &std::path::Path) -> (Store, Config) {
    let mut config: Config =
        serde_json::from_value(fixture_config(&slapd.address(), scim_base_url, TOKEN)).unwrap();
    config.ldap_sources[0].changelog = ChangelogFlavor::OpenldapAccesslog;
    let store = sqlite_store(&dir.join("s.db")).await;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    (store, config)
}

#[tokio::test]
async fn an_in_sync_resync_asks_nothing_per_entry() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let proxy = ShapingProxy::start(scim.port, ServiceShape::Pass);
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = setup(&slapd, &proxy.base_url(), dir.path()).await;
    // A resource whose userName differs from its entry's uid only in case: the listing
    // cannot tell (userName matches case-insensitively), so the service is asked.
    let response = reqwest::Client::new()
        .post(format!("{}/Users", scim.base_url()))
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .body(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "CASED"})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    slapd.modify(&(people(40) + &person("cased", "Before")));

    let first = resync_pipe(&store, &config, PIPE).await;
    assert_eq!((first.created, first.modified), (40, 1), "{first:#?}");
    assert_eq!(
        (first.found_by_listing, first.found_by_search),
        (40, 1),
        "{first:#?}"
    );
    let searches = proxy.count("GET /v2/Users?filter=", None);
    assert_eq!(searches, 1, "one search: the case-folded match");

    let lists = proxy.count("GET /v2/Users?attributes=", None);
    let gets = proxy.count("GET /v2/Users/", None);
    let second = resync_pipe(&store, &config, PIPE).await;
    assert_eq!(second.in_sync, 41, "{second:#?}");
    assert_eq!(second.found_by_listing, 41, "{second:#?}");
    assert_eq!(proxy.count("GET /v2/Users?attributes=", None), lists + 1);
    assert_eq!(proxy.count("GET /v2/Users?filter=", None), searches);
    assert_eq!(
        proxy.count("GET /v2/Users/", None),
        gets,
        "an entry in sync needs no request of its own"
    );

    // A changed entry is fetched once and patched.
    slapd.modify(&format!(
        "dn: uid=p007,ou=people,{SUFFIX}\nchangetype: modify\nreplace: sn\nsn: After\n\n"
    ));
    let third = resync_pipe(&store, &config, PIPE).await;
    assert_eq!((third.modified, third.in_sync), (1, 40), "{third:#?}");
    assert_eq!(proxy.count("GET /v2/Users/", None), gets + 1);
    assert_eq!(
        scim_people(&scim.base_url(), TOKEN)
            .get("p007")
            .map(String::as_str),
        Some("After")
    );
}

#[tokio::test]
async fn a_destination_that_caps_its_lists_is_searched_entry_by_entry() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let proxy = ShapingProxy::start(scim.port, ServiceShape::CappedList(10));
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = setup(&slapd, &proxy.base_url(), dir.path()).await;
    slapd.modify(&people(30));
    let first = resync_pipe(&store, &config, PIPE).await;
    assert_eq!(first.created, 30, "{first:#?}");

    let searches = proxy.count("GET /v2/Users?filter=", None);
    let second = resync_pipe(&store, &config, PIPE).await;
    assert_eq!(second.in_sync, 30, "{second:#?}");
    assert_eq!(
        (second.found_by_listing, second.found_by_search),
        (0, 30),
        "{second:#?}"
    );
    assert_eq!(proxy.count("GET /v2/Users?filter=", None), searches + 30);
}
