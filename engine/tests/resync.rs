//! Resync from a real slapd into a real scim2-server, checked resource by resource.

use engine::config::Config;
use engine::rejection::FailedStep;
use engine::store::Store;
use engine::sync::{
    EntryOutcome, EntryResult, ResyncCounts, ResyncObserver, ResyncOptions, ResyncProgress,
    run_resync,
};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use test_support::*;

const TOKEN: &str = "resync-token";
const PEOPLE: u32 = 40;

struct Setup {
    slapd: Slapd,
    scim: Scim2Server,
    store: Store,
    config: Config,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let config: Config =
        serde_json::from_value(fixture_config(&slapd.address(), &scim.base_url(), TOKEN)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir.path().join("s.db")).await;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    Setup {
        slapd,
        scim,
        store,
        config,
        _dir: dir,
    }
}

fn person(i: u32) -> String {
    let locked = if i.is_multiple_of(5) { "TRUE" } else { "FALSE" };
    format!(
        "dn: uid=user{i:03},ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nobjectClass: scimsyncTestUser\n\
         uid: user{i:03}\ncn: User {i:03}\ngivenName: User\nsn: Nr{i:03}\ndepartmentNumber: D{}\nbusinessCategory: CC{i}\n\
         testHireDate: 2024030{}083000+0100\nemployeeNumber: {}\npostalAddress: {i} Main St$Springfield\ntestLocked: {locked}\n\
         testEmailJSON: {{\"value\":\"user{i:03}@example.com\",\"type\":\"work\",\"primary\":true}}\n\
         testPhoneJSON: {{\"value\":\"+1 555 {i:04}\",\"type\":\"work\"}}\n\n",
        i % 3,
        1 + i % 9,
        1000 + i
    )
}

fn load_directory(slapd: &Slapd) {
    let mut ldif: String = (0..PEOPLE).map(person).collect();
    // One bad value per failed-mapping-behavior.
    ldif.push_str(&format!(
        "dn: uid=bad-json,ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nobjectClass: scimsyncTestUser\n\
         uid: bad-json\ncn: Bad Json\nsn: Json\ntestEmailJSON: not json\n\n\
         dn: uid=bad-badge,ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: bad-badge\ncn: Bad Badge\n\
         sn: Badge\nemployeeNumber: n/a\npostalAddress: 1 Side St$Shelbyville\n\n\
         dn: uid=bad-phone,ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nobjectClass: scimsyncTestUser\n\
         uid: bad-phone\ncn: Bad Phone\nsn: Phone\ntestPhoneJSON: {{\"value\":\"+1 555 7777\",\"type\":\"home\"}}\n\
         testPhoneJSON: {{broken\n\n\
         dn: cn=admins,ou=groups,{SUFFIX}\nchangetype: add\nobjectClass: groupOfNames\ncn: admins\n\
         member: uid=user001,ou=people,{SUFFIX}\n\n"
    ));
    slapd.modify(&ldif);
}

#[derive(Default)]
struct Recorder(Mutex<Vec<EntryResult>>);
impl ResyncObserver for Recorder {
    fn entry(&self, result: &EntryResult) {
        self.0.lock().unwrap().push(result.clone());
    }
}

async fn resync(s: &Setup, options: ResyncOptions) -> (ResyncCounts, Vec<EntryResult>) {
    let recorder = Arc::new(Recorder::default());
    let progress = ResyncProgress::default();
    let counts = run_resync(
        &s.store,
        &s.config,
        "LDAP to SCIM",
        &options,
        &progress,
        recorder.clone(),
    )
    .await
    .unwrap();
    assert!(counts.finished);
    let results = std::mem::take(&mut *recorder.0.lock().unwrap());
    (counts, results)
}

async fn scim_users(s: &Setup) -> Vec<Value> {
    let client = reqwest::Client::new();
    let body: Value = client
        .get(format!("{}/Users?count=1000", s.scim.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["Resources"].as_array().cloned().unwrap_or_default()
}

fn find<'a>(users: &'a [Value], user_name: &str) -> &'a Value {
    users
        .iter()
        .find(|u| u["userName"] == user_name)
        .unwrap_or_else(|| panic!("{user_name} is not in SCIM"))
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const TEST_EXT: &str = "urn:scimsync:test:2.0:User";

#[tokio::test]
async fn resync_creates_then_finds_everything_in_sync_then_patches_only_the_edit() {
    let s = setup().await;
    load_directory(&s.slapd);

    // First resync: every person created, the bad JSON rejected, the rest out of scope.
    let (counts, results) = resync(&s, ResyncOptions::default()).await;
    let created = PEOPLE as u64 + 2;
    assert_eq!(
        counts,
        ResyncCounts {
            retrieved: PEOPLE as u64 + 3 + 3,
            created,
            rejected: 1,
            out_of_scope: 3,
            expected: PEOPLE as u64 + 6,
            finished: true,
            // scim2-server lists and offers Bulk: one listing, writes in Bulk requests.
            found_by_listing: created,
            bulk: true,
            ..Default::default()
        }
    );
    assert_eq!(results.len(), counts.processed() as usize);

    let users = scim_users(&s).await;
    assert_eq!(users.len() as u64, created);
    // Each is kept as the entry's resource, for later deletes, renames and references.
    let pipe = &s.config.sync_pipes[0].name;
    for user in &users {
        let id = user["id"].as_str().unwrap();
        let kept = s
            .store
            .find_resource_by_scim_id(pipe, "Users", id)
            .await
            .unwrap();
        let kept = kept.unwrap_or_else(|| panic!("no correlation kept for {user}"));
        assert!(
            kept.dn
                .starts_with(&format!("uid={},", user["userName"].as_str().unwrap()))
        );
    }
    // Every change is in the log of changes, with its resource and what was sent.
    let logged = s
        .store
        .logged_changes(&engine::store::SyncLogFilter {
            pipe: Some(pipe.clone()),
            limit: 10_000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(logged.len() as u64, counts.processed(), "{logged:#?}");
    let count = |outcome| logged.iter().filter(|c| c.outcome == outcome).count() as u64;
    use engine::report::ChangeOutcome;
    assert_eq!(count(ChangeOutcome::Created), created);
    assert_eq!(count(ChangeOutcome::Rejected), 1);
    assert_eq!(count(ChangeOutcome::OutOfScope), 3);
    for user in &users {
        let id = user["id"].as_str().unwrap();
        let row = logged
            .iter()
            .find(|c| c.resource_id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("{user} is not in the log"));
        assert_eq!(row.outcome, ChangeOutcome::Created);
        assert_eq!(row.phase, engine::rejection::Phase::Resync);
        assert!(row.summary.starts_with("POST with "), "{row:?}");
    }
    for i in 0..PEOPLE {
        let u = find(&users, &format!("user{i:03}"));
        assert_eq!(u["name"]["givenName"], "User");
        assert_eq!(u["name"]["familyName"], format!("Nr{i:03}"));
        assert_eq!(u["displayName"], format!("User {i:03}"));
        assert_eq!(
            u["active"],
            json!(i % 5 != 0),
            "Boolean with invert-value for user{i:03}"
        );
        assert_eq!(u["emails"][0]["value"], format!("user{i:03}@example.com"));
        assert_eq!(u["emails"][0]["type"], "work");
        assert_eq!(u["emails"][0]["primary"], true);
        assert_eq!(u["phoneNumbers"][0]["value"], format!("+1 555 {i:04}"));
        assert_eq!(
            u[ENTERPRISE]["department"],
            format!("D{}", i % 3),
            "Composed Complex enterprise extension"
        );
        assert_eq!(u[ENTERPRISE]["costCenter"], format!("CC{i}"));
        let hired = u[TEST_EXT]["hireDate"].as_str().unwrap();
        let expected_hire = format!("2024-03-0{}T07:30:00Z", 1 + i % 9);
        assert!(
            engine::mapping::values::same_instant(hired, &expected_hire),
            "DateTime: {hired} vs {expected_hire}"
        );
        assert_eq!(u[TEST_EXT]["badgeNumber"], json!(1000 + i), "Number");
        assert_eq!(
            u[TEST_EXT]["mailingAddress"],
            format!("{i} Main St\nSpringfield"),
            "Postal Address"
        );
    }
    // reject: the whole operation.
    assert!(!users.iter().any(|u| u["userName"] == "bad-json"));
    let rejection = rejection_of(&results, "uid=bad-json");
    assert_eq!(rejection.operation, FailedStep::Map);
    assert!(
        rejection
            .reason
            .contains("\"Emails\" (testEmailJSON): \"not json\" is not JSON"),
        "{}",
        rejection.reason
    );
    let stored = s.store.rejections(Some("LDAP to SCIM"), 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].dn, format!("uid=bad-json,ou=people,{SUFFIX}"));
    assert_eq!(
        stored[0].source["attributes"]["testemailjson"],
        json!(["not json"])
    );
    // ignore-entire-attribute: no badge number, everything else there.
    let badge = find(&users, "bad-badge");
    assert!(badge[TEST_EXT].get("badgeNumber").is_none(), "{badge}");
    assert_eq!(badge[TEST_EXT]["mailingAddress"], "1 Side St\nShelbyville");
    // ignore-individual-values: only the good phone number.
    let phone = find(&users, "bad-phone");
    // The service may add members such as "primary": compare what was sent.
    let phones: Vec<Value> = phone["phoneNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| json!({"value": p["value"], "type": p["type"]}))
        .collect();
    assert_eq!(
        phones,
        vec![json!({"value": "+1 555 7777", "type": "home"})]
    );

    // Second resync: all in sync, nothing written.
    let versions: Vec<(String, Value)> = users
        .iter()
        .map(|u| {
            (
                u["userName"].as_str().unwrap().to_owned(),
                u["meta"]["version"].clone(),
            )
        })
        .collect();
    let (counts, _) = resync(&s, ResyncOptions::default()).await;
    assert_eq!(
        (
            counts.in_sync,
            counts.created,
            counts.modified,
            counts.rejected
        ),
        (created, 0, 0, 1)
    );

    // One edited entry: PATCHed, and nothing else touched.
    s.slapd.modify(&format!("dn: uid=user005,ou=people,{SUFFIX}\nchangetype: modify\nreplace: sn\nsn: Changed\n-\nreplace: departmentNumber\ndepartmentNumber: D9\n"));
    let (counts, results) = resync(&s, ResyncOptions::default()).await;
    assert_eq!(
        (counts.modified, counts.in_sync, counts.created),
        (1, created - 1, 0)
    );
    let modified = results
        .iter()
        .find(|r| matches!(r.outcome, EntryOutcome::Modified { .. }))
        .unwrap();
    assert_eq!(modified.dn, format!("uid=user005,ou=people,{SUFFIX}"));
    let EntryOutcome::Modified { operations } = &modified.outcome else {
        unreachable!()
    };
    let paths: Vec<&str> = operations
        .iter()
        .map(|o| o.path.as_deref().unwrap())
        .collect();
    assert_eq!(
        paths,
        vec![
            "name.familyName",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
        ]
    );
    let after = scim_users(&s).await;
    for (name, version) in &versions {
        let now = &find(&after, name)["meta"]["version"];
        if name == "user005" {
            assert_ne!(now, version, "the edited resource changed");
        } else {
            assert_eq!(now, version, "{name} must not be written");
        }
    }
    let u5 = find(&after, "user005");
    assert_eq!(u5["name"]["familyName"], "Changed");
    assert_eq!(u5[ENTERPRISE]["department"], "D9");

    // Dry run: reports the change, writes nothing.
    s.slapd.modify(&format!(
        "dn: uid=user006,ou=people,{SUFFIX}\nchangetype: modify\nreplace: cn\ncn: Renamed Six\n"
    ));
    let (counts, results) = resync(
        &s,
        ResyncOptions {
            dry_run: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(counts.modified, 1);
    let would = results
        .iter()
        .find(|r| r.dn.starts_with("uid=user006"))
        .unwrap();
    assert!(
        matches!(&would.outcome, EntryOutcome::Modified { operations } if operations[0].path.as_deref() == Some("displayName"))
    );
    assert_eq!(
        find(&scim_users(&s).await, "user006")["displayName"],
        "User 006"
    );
}

#[tokio::test]
async fn filters_input_dns_and_scim_rejections() {
    let s = setup().await;
    load_directory(&s.slapd);
    // --filter: only matching entries are read.
    let (counts, _) = resync(
        &s,
        ResyncOptions {
            filter: Some("(uid=user01*)".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!((counts.retrieved, counts.created), (10, 10));
    // A DN list (a failed-DNs file fed back in), with one DN that is not there.
    let dns = vec![
        format!("uid=user020,ou=people,{SUFFIX}"),
        format!("uid=ghost,ou=people,{SUFFIX}"),
    ];
    let (counts, results) = resync(
        &s,
        ResyncOptions {
            dns: Some(dns),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        (counts.retrieved, counts.created, counts.rejected),
        (1, 1, 1)
    );
    let ghost = results
        .iter()
        .find(|r| r.dn.starts_with("uid=ghost"))
        .unwrap();
    assert!(
        matches!(&ghost.outcome, EntryOutcome::Rejected { rejection } if rejection.operation == FailedStep::Read)
    );
    // The service refuses a value: the rejection keeps the request and the SCIM error.
    s.slapd.modify(&format!(
        "dn: uid=odd,ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nobjectClass: scimsyncTestUser\nuid: odd\ncn: Odd\nsn: Odd\n\
         testEmailJSON: {{\"value\":\"odd@example.com\",\"colour\":\"blue\"}}\n"
    ));
    let (counts, results) = resync(
        &s,
        ResyncOptions {
            filter: Some("(uid=odd)".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(counts.rejected, 1);
    let EntryOutcome::Rejected { rejection } = &results[0].outcome else {
        panic!("{:?}", results[0])
    };
    assert_eq!(rejection.operation, FailedStep::Create);
    assert_eq!(rejection.response.as_ref().unwrap()["status"], 400);
    let request = rejection.request.as_ref().unwrap();
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.body.as_ref().unwrap()["emails"][0]["colour"],
        "blue"
    );
    assert!(
        rejection.reason.contains("HTTP 400"),
        "{}",
        rejection.reason
    );
}

#[tokio::test]
async fn an_unreachable_destination_is_an_outage_after_the_pipe_attempts() {
    let s = setup().await;
    s.slapd.modify(&person(1));
    let mut config = s.config.clone();
    config.scim_servers[0].base_url = format!("http://127.0.0.1:{}/v2", free_port());
    let recorder = Arc::new(Recorder::default());
    let progress = ResyncProgress::default();
    let counts = run_resync(
        &s.store,
        &config,
        "LDAP to SCIM",
        &ResyncOptions::default(),
        &progress,
        recorder.clone(),
    )
    .await
    .unwrap();
    assert_eq!(counts.rejected, 1);
    let results = recorder.0.lock().unwrap();
    // An outage, not a refusal: counted (and stored) as rejected by resync.
    let EntryOutcome::Unavailable { rejection, .. } = &results
        .iter()
        .find(|r| r.dn.starts_with("uid=user001"))
        .unwrap()
        .outcome
    else {
        panic!("{results:?}")
    };
    assert!(
        rejection.reason.contains("cannot connect")
            && rejection.reason.contains("gave up after 3 attempts"),
        "{}",
        rejection.reason
    );
}

#[tokio::test]
async fn put_updates_and_post_searches_keep_unmapped_attributes() {
    let mut s = setup().await;
    s.config.scim_destinations[0].update_method = engine::config::UpdateMethod::Put;
    s.config.scim_destinations[0].query_method = engine::config::QueryMethod::Post;
    s.store.replace_all(s.config.clone()).await.unwrap();
    s.slapd.modify(&person(3));
    let (counts, _) = resync(&s, ResyncOptions::default()).await;
    assert_eq!(counts.created, 1);

    // Another client sets an attribute scimsync does not map.
    let client = reqwest::Client::new();
    let user = find(&scim_users(&s).await, "user003").clone();
    let id = user["id"].as_str().unwrap();
    let patched = client
        .patch(format!("{}/Users/{id}", s.scim.base_url()))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/scim+json")
        .body(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "add", "path": "title", "value": "Engineer"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert!(patched.status().is_success());

    s.slapd.modify(&format!(
        "dn: uid=user003,ou=people,{SUFFIX}\nchangetype: modify\nreplace: sn\nsn: Put\n"
    ));
    let (counts, _) = resync(&s, ResyncOptions::default()).await;
    assert_eq!((counts.modified, counts.in_sync), (1, 0));
    let after = find(&scim_users(&s).await, "user003").clone();
    assert_eq!(after["name"]["familyName"], "Put");
    assert_eq!(
        after["title"], "Engineer",
        "PUT keeps what scimsync does not map"
    );
    assert_eq!(after[TEST_EXT]["badgeNumber"], json!(1003));
    let (counts, _) = resync(&s, ResyncOptions::default()).await;
    assert_eq!(counts.in_sync, 1);
}

#[tokio::test]
async fn a_rate_limited_destination_is_retried_after_429_and_nothing_is_lost() {
    let mut s = setup().await;
    let proxy = RateLimitingProxy::start(s.scim.port, 5);
    s.config.scim_servers[0].base_url = format!("http://127.0.0.1:{}/v2", proxy.port);
    s.config.sync_pipes[0].retry_attempts = 20;
    s.store.replace_all(s.config.clone()).await.unwrap();
    s.config = s.store.load_config().await.unwrap();
    s.slapd.modify(&(0..15).map(person).collect::<String>());
    let (counts, _) = resync(
        &s,
        ResyncOptions {
            threads: Some(4),
            ..Default::default()
        },
    )
    .await;
    assert_eq!((counts.created, counts.rejected), (15, 0), "{counts:?}");
    assert!(
        proxy.count_status(429) > 0,
        "the proxy never throttled, so nothing was tested"
    );
    assert_eq!(scim_users(&s).await.len(), 15);
}
