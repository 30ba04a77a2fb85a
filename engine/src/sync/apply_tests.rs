//! The plan and the write of one entry through the [`Destination`](crate::scim::Destination)
//! seam, against an in-memory SCIM service: which class takes an entry, what is searched,
//! created and PATCHed, and how a refusal and an outage end. The same paths against real
//! servers are in engine/tests.

use super::*;
use crate::config::examples::directory;
use crate::config::{Config, ScimDestination};
use crate::crypto::Cipher;
use crate::mapping::references::{ReferenceTarget, ReferencedResource, reference_dn};
use crate::rejection::FailedStep;
use crate::sync::memory_destination::MemoryDestination;
use serde_json::json;

const PIPE: &str = "LDAP to SCIM";
const PEOPLE: &str = "ou=people,dc=example,dc=com";

fn plan_with(config: &Config, destination: &MemoryDestination) -> PipePlan {
    PipePlan::build(config, PIPE, &Cipher::ephemeral(), None)
        .unwrap()
        .with_destination(destination.clone())
}

fn person(uid: &str) -> LdapEntry {
    LdapEntry::new(format!("uid={uid},{PEOPLE}"))
        .with("objectClass", &["inetOrgPerson"])
        .with("uid", &[uid])
        .with("cn", &[&format!("{uid} Example")])
        .with("sn", &["Example"])
        .with("mail", &[&format!("{uid}@example.com")])
}

/// Writes `entry` as resync does, with `references` already resolved.
async fn write_entry(
    plan: &PipePlan,
    entry: &LdapEntry,
    references: &ResolvedReferences,
    dry_run: bool,
) -> Applied {
    let (class, mapper) = synchronising(plan, entry).unwrap_or_else(|r| panic!("{r:?}"));
    let fail = Fail {
        pipe: PIPE,
        phase: Phase::Resync,
        entry,
    };
    let writing = EntryWrite {
        plan,
        class,
        mapper,
        entry,
        references,
        dry_run,
        fail: &fail,
    };
    writing
        .write(None)
        .await
        .unwrap_or_else(|f| Applied::bare(f.into_outcome(), None))
}

fn no_references() -> ResolvedReferences {
    ResolvedReferences::default()
}

#[test]
fn the_plan_gives_each_entry_the_first_class_that_holds_it() {
    let plan = plan_with(&directory(), &MemoryDestination::default());
    let (class, mapper) = synchronising(&plan, &person("ann")).unwrap();
    assert_eq!(
        (class.class.name.as_str(), mapper.endpoint.name.as_str()),
        ("People", "Users")
    );
    let group = LdapEntry::new("cn=eng,ou=groups,dc=example,dc=com")
        .with("objectClass", &["groupOfNames"])
        .with("cn", &["eng"]);
    assert_eq!(synchronising(&plan, &group).unwrap().0.class.name, "Groups");
    // A person outside ou=people falls to the catch-all class, which synchronises nothing.
    let elsewhere = person("bob");
    let elsewhere = LdapEntry {
        dn: "uid=bob,ou=contractors,dc=example,dc=com".into(),
        ..elsewhere
    };
    let Err(result) = synchronising(&plan, &elsewhere) else {
        panic!("the catch-all class synchronises nothing")
    };
    assert_eq!(result.class.as_deref(), Some("Everything else"));
    assert!(
        matches!(&result.outcome, EntryOutcome::Skipped { reason } if reason.contains("its entries")),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_new_entry_is_searched_by_its_search_mappings_then_created() {
    let destination = MemoryDestination::default();
    let plan = plan_with(&directory(), &destination);
    let applied = write_entry(&plan, &person("ann"), &no_references(), false).await;
    assert!(
        matches!(applied.outcome, EntryOutcome::Created { .. }),
        "{:?}",
        applied.outcome
    );
    assert_eq!(
        destination.sent(),
        ["GET Users?filter=userName eq \"ann\"", "POST Users"]
    );
    let users = destination.resources("Users");
    assert_eq!(users[0]["userName"], "ann");
    assert_eq!(
        users[0]["emails"],
        json!([{"type": "work", "value": "ann@example.com"}])
    );
    assert_eq!(applied.resource.unwrap().id, "id-1");
}

#[tokio::test]
async fn an_entry_in_line_with_its_resource_sends_no_write_and_a_change_one_patch() {
    let destination = MemoryDestination::default();
    let plan = plan_with(&directory(), &destination);
    write_entry(&plan, &person("ann"), &no_references(), false).await;

    let again = write_entry(&plan, &person("ann"), &no_references(), false).await;
    assert_eq!(again.outcome, EntryOutcome::InSync);
    assert_eq!(destination.sent().len(), 3, "{:?}", destination.sent());

    let renamed = person("ann").with("displayName", &["Ann Renamed"]);
    let renamed = LdapEntry {
        attributes: {
            let mut a = renamed.attributes;
            a.insert("cn".into(), vec!["Ann Renamed".into()]);
            a
        },
        ..renamed
    };
    let applied = write_entry(&plan, &renamed, &no_references(), false).await;
    let EntryOutcome::Modified { operations } = &applied.outcome else {
        panic!("{:?}", applied.outcome)
    };
    assert!(!operations.is_empty());
    assert_eq!(destination.sent().last().unwrap(), "PATCH Users/id-1");
}

#[tokio::test]
async fn a_dry_run_only_searches() {
    let destination = MemoryDestination::default();
    let plan = plan_with(&directory(), &destination);
    let applied = write_entry(&plan, &person("ann"), &no_references(), true).await;
    assert!(matches!(applied.outcome, EntryOutcome::Created { .. }));
    assert_eq!(destination.sent(), ["GET Users?filter=userName eq \"ann\""]);
    assert!(destination.resources("Users").is_empty());
}

#[tokio::test]
async fn two_matches_are_an_ambiguity_rejection_and_nothing_is_written() {
    let destination = MemoryDestination::default()
        .holding("Users", json!({"id": "a", "userName": "ann"}))
        .holding("Users", json!({"id": "b", "userName": "ann"}));
    let plan = plan_with(&directory(), &destination);
    let applied = write_entry(&plan, &person("ann"), &no_references(), false).await;
    let EntryOutcome::Rejected { rejection } = &applied.outcome else {
        panic!("{:?}", applied.outcome)
    };
    assert_eq!(rejection.operation, FailedStep::Search);
    assert!(
        rejection.reason.contains("2 resources match"),
        "{}",
        rejection.reason
    );
    assert_eq!(destination.sent().len(), 1);
}

#[tokio::test]
async fn a_refused_create_is_rejected_with_its_request_and_a_failing_service_is_an_outage() {
    let destination = MemoryDestination::default();
    let plan = plan_with(&directory(), &destination);
    destination.fail("POST", 400);
    let applied = write_entry(&plan, &person("ann"), &no_references(), false).await;
    let EntryOutcome::Rejected { rejection } = &applied.outcome else {
        panic!("{:?}", applied.outcome)
    };
    assert_eq!(rejection.operation, FailedStep::Create);
    let request = rejection.request.as_ref().unwrap();
    assert_eq!(
        (request.method.as_str(), request.url.as_str()),
        ("POST", "memory:/v2/Users")
    );
    assert_eq!(request.body.as_ref().unwrap()["userName"], "ann");

    // 5xx is the service's trouble, not the entry's: an outage the pipe may wait out.
    destination.fail("GET", 503);
    let applied = write_entry(&plan, &person("bob"), &no_references(), false).await;
    assert!(
        matches!(
            applied.outcome,
            EntryOutcome::Unavailable {
                throttled: false,
                ..
            }
        ),
        "{:?}",
        applied.outcome
    );
    destination.fail("GET", 429);
    let applied = write_entry(&plan, &person("bob"), &no_references(), false).await;
    assert!(
        matches!(
            applied.outcome,
            EntryOutcome::Unavailable {
                throttled: true,
                ..
            }
        ),
        "{:?}",
        applied.outcome
    );
}

#[tokio::test]
async fn a_class_that_does_not_synchronise_creates_or_modifies_skips_them() {
    let mut config = directory();
    let people = config
        .sync_classes
        .iter_mut()
        .find(|c| c.name == "People")
        .unwrap();
    people.synchronize_creates = false;
    people.synchronize_modifies = false;
    let destination =
        MemoryDestination::default().holding("Users", json!({"id": "b", "userName": "bob"}));
    let plan = plan_with(&config, &destination);
    let created = write_entry(&plan, &person("ann"), &no_references(), false).await;
    assert!(
        matches!(created.outcome, EntryOutcome::Skipped { .. }),
        "{:?}",
        created.outcome
    );
    let modified = write_entry(&plan, &person("bob"), &no_references(), false).await;
    assert!(
        matches!(modified.outcome, EntryOutcome::Skipped { .. }),
        "{:?}",
        modified.outcome
    );
    assert!(
        destination.sent().iter().all(|r| r.starts_with("GET ")),
        "{:?}",
        destination.sent()
    );
}

#[tokio::test]
async fn members_are_written_as_ids_and_a_new_member_is_one_small_patch() {
    let mut config = directory();
    let cap: &mut ScimDestination = config.scim_destinations.first_mut().unwrap();
    cap.max_operations_per_patch = 2;
    let destination = MemoryDestination::default();
    let plan = plan_with(&config, &destination);
    let member = |uid: &str| format!("uid={uid},{PEOPLE}");
    let mut references = ResolvedReferences::default();
    for (i, uid) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        references.insert(
            reference_dn(&member(uid)).unwrap().normalized_key(),
            ReferenceTarget::Resource(ReferencedResource {
                endpoint_mapping: "Users".into(),
                id: format!("user-{i}"),
                resource_type: "User".into(),
                display: None,
            }),
        );
    }
    let group = |members: &[&str]| {
        let dns: Vec<String> = members.iter().map(|m| member(m)).collect();
        let dns: Vec<&str> = dns.iter().map(String::as_str).collect();
        LdapEntry::new("cn=eng,ou=groups,dc=example,dc=com")
            .with("objectClass", &["groupOfNames"])
            .with("cn", &["eng"])
            .with("member", &dns)
    };
    let created = write_entry(&plan, &group(&["a", "b"]), &references, false).await;
    assert_eq!(created.references.members_added, 2);
    let stored = &destination.resources("Groups")[0];
    let ids: Vec<&str> = stored["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["user-0", "user-1"]);

    // Three new members with a cap of two operations per PATCH: two requests, adds only.
    let before = destination.sent().len();
    let grown = write_entry(
        &plan,
        &group(&["a", "b", "c", "d", "e"]),
        &references,
        false,
    )
    .await;
    assert_eq!(grown.references.members_added, 3);
    let EntryOutcome::Modified { operations } = &grown.outcome else {
        panic!("{:?}", grown.outcome)
    };
    assert!(operations.iter().all(|o| o.op == "add"), "{operations:?}");
    let sent = &destination.sent()[before..];
    let patches: Vec<&String> = sent.iter().filter(|r| r.starts_with("PATCH")).collect();
    assert_eq!(
        patches,
        ["PATCH Groups/id-1", "PATCH Groups/id-1"],
        "{sent:?}"
    );
}
