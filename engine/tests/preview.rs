//! Preview of one entry against OpenLDAP and scim2-server: an entry in scope (every step
//! shown, nothing created until --apply), one out of scope (why each class does not take
//! it), one that fails to map (shown as rejected, nothing kept), and a DN that is not there.

use engine::config::Config;
use engine::sync::preview_entry;
use test_support::*;

const TOKEN: &str = "preview-token";
const PIPE: &str = "LDAP to SCIM";

#[tokio::test]
async fn preview_shows_each_step_and_changes_nothing_without_apply() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let config: Config =
        serde_json::from_value(fixture_config(&slapd.address(), &scim.base_url(), TOKEN)).unwrap();
    let store = sqlite_store(&dir.path().join("s.db")).await;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    slapd.modify(&format!(
        "dn: uid=ann,ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: ann\ncn: Ann\nsn: Example\n\n\
         dn: uid=outside,ou=groups,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: outside\ncn: Out\nsn: Side\n\n\
         dn: uid=broken,ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nobjectClass: scimsyncTestUser\nuid: broken\ncn: B\nsn: B\ntestEmailJSON: {{oops\n\n"
    ));
    let ann = format!("uid=ann,ou=people,{SUFFIX}");

    // In scope: read, classified, mapped, searched (nothing found), would be created.
    let p = preview_entry(&store, &config, PIPE, &ann, false)
        .await
        .unwrap();
    assert_eq!(p.entry.as_ref().unwrap()["sn"], ["Example"]);
    assert_eq!(p.class.as_deref(), Some("People"));
    assert!(p.classes[0].takes, "{:?}", p.classes);
    let create = p.mapped.iter().find(|m| m.purpose == "create").unwrap();
    assert_eq!(create.resource.as_ref().unwrap()["userName"], "ann");
    let search = p.search.as_ref().unwrap();
    assert_eq!(search.filter.as_deref(), Some("userName eq \"ann\""));
    assert_eq!(search.found, Ok(vec![]));
    assert_eq!((p.action.as_str(), p.applied), ("created", false));
    assert_eq!(p.sent["method"], "POST");
    assert_eq!(p.sent["body"]["userName"], "ann");
    assert!(
        scim_people(&scim.base_url(), TOKEN).is_empty(),
        "nothing created"
    );
    assert_eq!(store.synchronised_count(PIPE).await.unwrap(), 0);

    // --apply creates it and keeps the correlation; a second preview finds it in sync.
    let p = preview_entry(&store, &config, PIPE, &ann, true)
        .await
        .unwrap();
    assert_eq!((p.action.as_str(), p.applied), ("created", true));
    assert_eq!(scim_people(&scim.base_url(), TOKEN)["ann"], "Example");
    assert_eq!(store.synchronised_count(PIPE).await.unwrap(), 1);
    let p = preview_entry(&store, &config, PIPE, &ann, false)
        .await
        .unwrap();
    assert_eq!(p.action, "in-sync");
    assert_eq!(p.search.unwrap().found.unwrap().len(), 1);

    // Changed in LDAP: the PATCH operations; with a PUT destination, the PUT body.
    slapd.modify(&format!(
        "dn: {ann}\nchangetype: modify\nreplace: sn\nsn: Changed\n\n"
    ));
    let p = preview_entry(&store, &config, PIPE, &ann, false)
        .await
        .unwrap();
    assert_eq!(
        (p.action.as_str(), &p.sent["method"]),
        ("modified", &serde_json::json!("PATCH"))
    );
    let ops = p.sent["operations"].to_string();
    assert!(
        ops.contains("name.familyName") && ops.contains("Changed"),
        "{ops}"
    );
    let mut put = config.clone();
    put.scim_destinations[0].update_method = engine::config::UpdateMethod::Put;
    let p = preview_entry(&store, &put, PIPE, &ann, false)
        .await
        .unwrap();
    assert_eq!(p.sent["method"], "PUT", "{}", p.sent);
    assert_eq!(p.sent["body"]["name"]["familyName"], "Changed");
    assert_eq!(p.sent["body"]["userName"], "ann");
    assert_eq!(
        scim_people(&scim.base_url(), TOKEN)["ann"],
        "Example",
        "nothing sent"
    );

    // Out of scope: each class says why it does not take the entry.
    let outside = format!("uid=outside,ou=groups,{SUFFIX}");
    let p = preview_entry(&store, &config, PIPE, &outside, false)
        .await
        .unwrap();
    assert_eq!(p.action, "out-of-scope");
    assert_eq!(p.class, None);
    assert!(p.classes.iter().all(|c| !c.takes));
    assert!(
        p.classes[0].why.contains("not under its base DNs"),
        "{:?}",
        p.classes
    );
    assert!(p.mapped.is_empty() && p.search.is_none());

    // A value the mapping rejects: shown as rejected, nothing sent, nothing kept.
    let broken = format!("uid=broken,ou=people,{SUFFIX}");
    let p = preview_entry(&store, &config, PIPE, &broken, false)
        .await
        .unwrap();
    assert_eq!(p.action, "rejected");
    let create = p.mapped.iter().find(|m| m.purpose == "create").unwrap();
    assert!(create.resource.is_none());
    assert!(
        create.problems[0].contains("\"{oops\" is not JSON"),
        "{:?}",
        create.problems
    );
    assert!(
        p.sent.as_str().unwrap().contains("is not JSON"),
        "{}",
        p.sent
    );
    assert!(
        store.rejections(None, 10).await.unwrap().is_empty(),
        "a preview keeps no rejection"
    );
    assert!(!scim_people(&scim.base_url(), TOKEN).contains_key("broken"));

    // A DN that is not there.
    let p = preview_entry(
        &store,
        &config,
        PIPE,
        &format!("uid=nobody,ou=people,{SUFFIX}"),
        false,
    )
    .await
    .unwrap();
    assert_eq!((p.action.as_str(), p.entry.is_none()), ("dropped", true));
}
