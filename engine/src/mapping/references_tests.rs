use super::*;
use serde_json::json;

#[test]
fn unique_member_uids_are_not_part_of_the_dn() {
    let key = |v: &str| reference_dn(v).unwrap().normalized_key();
    assert_eq!(
        key("uid=a,ou=people,dc=example,dc=com#'0101'B"),
        key("UID=A, ou=People,dc=example,dc=com")
    );
    // Not a Name-and-optional-UID suffix: part of the value.
    assert_eq!(key("cn=a#'x'B,dc=com"), "cn=a#'x'b,dc=com");
    assert!(reference_dn("not a dn").is_err());
}

#[test]
fn values_and_ids() {
    let target = ReferencedResource {
        endpoint_mapping: "Users".into(),
        id: "42".into(),
        resource_type: resource_type_of("urn:ietf:params:scim:schemas:core:2.0:User"),
        display: Some("Ann".into()),
    };
    assert_eq!(
        reference_value(&target, false),
        json!({"value": "42", "type": "User", "display": "Ann"})
    );
    assert_eq!(reference_value(&target, true), json!({"value": "42"}));
    assert_eq!(
        reference_ids(
            &json!([{"value": "1", "display": "x"}, {"Value": "2"}, {"display": "no id"}])
        ),
        vec!["1", "2"]
    );
    assert_eq!(reference_ids(&json!({"value": "9"})), vec!["9"]);
}

// ---- mapping and diffing references and value paths, on a users + groups configuration ----

use crate::config::{Config, EndpointMapping};
use crate::mapping::{
    EndpointMapper, LdapEntry, PatchOp, Phase, Purpose, chunk_operations, patch_operations,
    put_body, reference_changes,
};

const ALL: &str = r#"["fetch", "create-during-resync", "update-during-resync", "create-during-realtime-sync", "update-during-realtime-sync"]"#;

/// Users (userName, work email and mobile phone by value path, manager in the enterprise
/// extension) and Groups (displayName, members: users or groups).
fn directory_config() -> Config {
    let usage: serde_json::Value = serde_json::from_str(ALL).unwrap();
    let config = json!({
        "attribute-mappings": [
            {"name": "User Name", "scim-attribute-name": "userName", "attribute-usage": usage,
             "syntax": {"type": "string", "ldap-attribute": "uid", "single-valued": true}},
            {"name": "Work Email", "scim-attribute-name": "emails[type eq \"work\"].value", "attribute-usage": usage,
             "syntax": {"type": "string", "ldap-attribute": "mail", "single-valued": true}},
            {"name": "Work Email Display", "scim-attribute-name": "emails[type eq \"work\"].display", "attribute-usage": usage,
             "syntax": {"type": "string", "ldap-attribute": "cn", "single-valued": true}},
            {"name": "Mobile", "scim-attribute-name": "phoneNumbers[type eq \"mobile\"].value", "attribute-usage": usage,
             "syntax": {"type": "string", "ldap-attribute": "mobile", "single-valued": true}},
            {"name": "Manager", "scim-attribute-name": "manager", "attribute-usage": usage,
             "syntax": {"type": "reference", "ldap-attribute": "manager", "endpoint-mappings": ["Users"], "single-valued": true}},
            {"name": "Enterprise", "scim-attribute-name": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "attribute-usage": usage,
             "syntax": {"type": "composed-complex", "sub-attribute-mappings": ["Manager"]}},
            {"name": "Group Name", "scim-attribute-name": "displayName", "attribute-usage": usage,
             "syntax": {"type": "string", "ldap-attribute": "cn", "single-valued": true}},
            {"name": "Members", "scim-attribute-name": "members", "attribute-usage": usage,
             "syntax": {"type": "reference", "ldap-attribute": "member", "endpoint-mappings": ["Users", "Groups"]}},
            {"name": "Unique Members", "scim-attribute-name": "members", "attribute-usage": usage,
             "syntax": {"type": "reference", "ldap-attribute": "uniqueMember", "endpoint-mappings": ["Users", "Groups"]}}
        ],
        "endpoint-mappings": [
            {"name": "Users", "endpoint-path": "Users",
             "schema-urns": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
             "attribute-mappings": ["User Name", "Work Email", "Work Email Display", "Mobile", "Enterprise"], "search-attribute-mappings": ["User Name"]},
            {"name": "Groups", "endpoint-path": "Groups", "schema-urns": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
             "attribute-mappings": ["Group Name", "Members", "Unique Members"], "search-attribute-mappings": ["Group Name"]}
        ]
    });
    serde_json::from_value(config).unwrap()
}

fn mapper(config: &Config, name: &str) -> EndpointMapper {
    EndpointMapper::new(config, config.get::<EndpointMapping>(name).unwrap())
}

fn user_dn(n: u32) -> String {
    format!("uid=u{n},ou=people,dc=example,dc=com")
}

fn user(n: u32) -> ReferenceTarget {
    ReferenceTarget::Resource(ReferencedResource {
        endpoint_mapping: "Users".into(),
        id: format!("id-{n}"),
        resource_type: "User".into(),
        display: Some(format!("User {n}")),
    })
}

/// Users 1..=n resolved; `uid=late` pending; `cn=printer` out of scope.
fn references(n: u32) -> ResolvedReferences {
    let mut r = ResolvedReferences::default();
    for i in 1..=n {
        r.insert(reference_dn(&user_dn(i)).unwrap().normalized_key(), user(i));
    }
    r.insert(
        reference_dn("uid=late,ou=people,dc=example,dc=com")
            .unwrap()
            .normalized_key(),
        ReferenceTarget::Pending {
            endpoint_mapping: "Users".into(),
        },
    );
    r.insert(
        reference_dn("cn=printer,ou=devices,dc=example,dc=com")
            .unwrap()
            .normalized_key(),
        ReferenceTarget::OutOfScope,
    );
    r
}

fn group(members: &[String]) -> LdapEntry {
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    LdapEntry::new("cn=staff,ou=groups,dc=example,dc=com")
        .with("cn", &["staff"])
        .with("member", &refs)
}

fn current_group(ids: impl IntoIterator<Item = u32>) -> serde_json::Value {
    let members: Vec<serde_json::Value> = ids
        .into_iter()
        .map(|i| json!({"value": format!("id-{i}"), "display": format!("User {i}"), "$ref": format!("https://x/Users/id-{i}")}))
        .collect();
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1", "displayName": "staff", "members": members})
}

#[test]
fn members_become_ids_and_unresolved_ones_are_reported() {
    let config = directory_config();
    let groups = mapper(&config, "Groups");
    let mut dns: Vec<String> = vec![
        user_dn(1),
        "UID=U2, OU=People,dc=example,dc=com".into(),
        "uid=late,ou=people,dc=example,dc=com".into(),
        "cn=printer,ou=devices,dc=example,dc=com".into(),
        // The same entry twice (as two spellings) is one member.
        "uid=u1,ou=people,dc=EXAMPLE,dc=com".into(),
    ];
    dns.push("uid=u3,ou=people,dc=example,dc=com#'0101'B".into());
    let mapped = groups
        .map(&group(&dns), Purpose::Create, Phase::Resync, &references(3))
        .unwrap();
    assert_eq!(
        mapped.resource["members"],
        json!([
            {"value": "id-1", "type": "User", "display": "User 1"},
            {"value": "id-2", "type": "User", "display": "User 2"},
            {"value": "id-3", "type": "User", "display": "User 3"},
        ])
    );
    assert_eq!(
        mapped.references.pending,
        vec![PendingReference {
            mapping: "Members".into(),
            dn: "uid=late,ou=people,dc=example,dc=com".into()
        }]
    );
    assert_eq!(mapped.references.out_of_scope, 1);
    assert_eq!(
        groups.referenced_dns(&group(&dns)).len(),
        5,
        "each entry once, by normalised DN"
    );
}

#[test]
fn a_member_that_is_not_a_dn_follows_failed_mapping_behavior() {
    let mut config = directory_config();
    let bad = group(&[user_dn(1), "not a dn".into()]);
    let err = mapper(&config, "Groups")
        .map(&bad, Purpose::Create, Phase::Resync, &references(1))
        .unwrap_err();
    assert_eq!(err.mapping, "Members");
    assert!(
        err.reason.contains("\"not a dn\" is not a valid DN"),
        "{err}"
    );
    config.attribute_mappings[7].failed_mapping_behavior =
        crate::config::FailedMappingBehavior::IgnoreIndividualValues;
    let mapped = mapper(&config, "Groups")
        .map(&bad, Purpose::Create, Phase::Resync, &references(1))
        .unwrap();
    assert_eq!(
        mapped.resource["members"],
        json!([{"value": "id-1", "type": "User", "display": "User 1"}])
    );
    assert_eq!(mapped.ignored.len(), 1);
}

fn group_ops(members: u32, current: serde_json::Value, config: &Config) -> Vec<PatchOp> {
    let groups = mapper(config, "Groups");
    let dns: Vec<String> = (1..=members).map(user_dn).collect();
    let wanted = groups
        .map(
            &group(&dns),
            Purpose::Update,
            Phase::Realtime,
            &references(members),
        )
        .unwrap()
        .resource;
    patch_operations(&groups, &wanted, &current, Phase::Realtime, &[])
}

#[test]
fn one_changed_member_of_a_large_group_is_one_small_operation() {
    let config = directory_config();
    // 5,000 in LDAP; the service holds 1..=4999 plus a member that left (9999).
    let current = current_group((1..5000).chain([9999]));
    let ops = group_ops(5000, current.clone(), &config);
    assert_eq!(
        ops,
        vec![
            PatchOp {
                op: "remove".into(),
                path: Some("members[value eq \"id-9999\"]".into()),
                value: None
            },
            PatchOp {
                op: "add".into(),
                path: Some("members".into()),
                value: Some(json!([{"value": "id-5000", "type": "User", "display": "User 5000"}]))
            },
        ]
    );
    let body = serde_json::to_string(&ops).unwrap();
    assert!(body.len() < 300, "{} bytes", body.len());
    let groups = mapper(&config, "Groups");
    let dns: Vec<String> = (1..=5000).map(user_dn).collect();
    let wanted = groups
        .map(
            &group(&dns),
            Purpose::Update,
            Phase::Realtime,
            &references(5000),
        )
        .unwrap()
        .resource;
    assert_eq!(
        reference_changes(&groups, &wanted, Some(&current), Phase::Realtime),
        (1, 1)
    );
    assert_eq!(
        reference_changes(&groups, &wanted, None, Phase::Realtime),
        (5000, 0)
    );
    // Same members, other display names and $refs: in sync.
    assert!(group_ops(4999, current_group(1..5000), &config).is_empty());
}

#[test]
fn always_patch_with_replace_sends_one_replace_and_put_the_full_list() {
    let mut config = directory_config();
    config.attribute_mappings[7].always_patch_with_replace = true;
    let ops = group_ops(3, current_group([1, 9]), &config);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].op, "replace");
    assert_eq!(ops[0].path.as_deref(), Some("members"));
    assert_eq!(ops[0].value.as_ref().unwrap().as_array().unwrap().len(), 3);

    let config = directory_config();
    let groups = mapper(&config, "Groups");
    let dns: Vec<String> = (1..=3).map(user_dn).collect();
    let wanted = groups
        .map(&group(&dns), Purpose::Update, Phase::Resync, &references(3))
        .unwrap()
        .resource;
    let body = put_body(&groups, &wanted, &current_group([1, 9]), Phase::Resync);
    assert_eq!(
        super::reference_ids(&body["members"]),
        vec!["id-1", "id-2", "id-3"]
    );
}

#[test]
fn patch_requests_carry_at_most_the_cap() {
    let add = |n: usize| PatchOp {
        op: "add".into(),
        path: Some("members".into()),
        value: Some(serde_json::Value::Array(
            (0..n).map(|i| json!({"value": i.to_string()})).collect(),
        )),
    };
    let remove = |i: u32| PatchOp {
        op: "remove".into(),
        path: Some(format!("members[value eq \"{i}\"]")),
        value: None,
    };
    let replace = PatchOp {
        op: "replace".into(),
        path: Some("members".into()),
        value: Some(serde_json::Value::Array(
            (0..500).map(|i| json!({"value": i})).collect(),
        )),
    };
    let weight = |req: &Vec<PatchOp>| -> usize {
        req.iter()
            .map(|op| match (&op.op[..], &op.value) {
                ("add", Some(serde_json::Value::Array(a))) => a.len(),
                _ => 1,
            })
            .sum()
    };
    let mut ops: Vec<PatchOp> = (0..150).map(remove).collect();
    ops.push(add(250));
    let requests = chunk_operations(ops, 100);
    assert!(
        requests.iter().all(|r| weight(r) <= 100),
        "{:?}",
        requests.iter().map(weight).collect::<Vec<_>>()
    );
    assert_eq!(requests.iter().map(weight).sum::<usize>(), 400);
    assert_eq!(requests.len(), 4);
    // A replace is never split, whatever its size.
    assert_eq!(
        chunk_operations(vec![replace.clone()], 100),
        vec![vec![replace]]
    );
    assert_eq!(chunk_operations(vec![add(3)], 100).len(), 1);
}

#[test]
fn a_manager_is_one_value_in_the_extension() {
    let config = directory_config();
    let users = mapper(&config, "Users");
    let ann = LdapEntry::new(user_dn(7))
        .with("uid", &["u7"])
        .with("manager", &[&user_dn(1)]);
    let created = users
        .map(&ann, Purpose::Create, Phase::Resync, &references(1))
        .unwrap()
        .resource;
    let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    assert_eq!(created[ext], json!({"manager": {"value": "id-1"}}));
    assert_eq!(created["schemas"][1], ext);
    // The service adds $ref and displayName: still in sync. Another manager: one replace.
    let current = json!({"id": "x", "userName": "u7", ext: {"manager": {"value": "id-1", "$ref": "../Users/id-1", "displayName": "User 1"}}});
    assert!(patch_operations(&users, &created, &current, Phase::Resync, &[]).is_empty());
    let other = json!({"id": "x", "userName": "u7", ext: {"manager": {"value": "id-2"}}});
    assert_eq!(
        patch_operations(&users, &created, &other, Phase::Resync, &[]),
        vec![PatchOp {
            op: "replace".into(),
            path: Some(format!("{ext}:manager")),
            value: Some(json!({"value": "id-1"}))
        }]
    );
    // A manager that is not synchronised yet leaves the attribute out (and is pending).
    let later = LdapEntry::new(user_dn(8))
        .with("uid", &["u8"])
        .with("manager", &["uid=late,ou=people,dc=example,dc=com"]);
    let mapped = users
        .map(&later, Purpose::Create, Phase::Resync, &references(1))
        .unwrap();
    assert!(mapped.resource.get(ext).is_none());
    assert_eq!(mapped.references.pending.len(), 1);
}

fn jane(mail: Option<&str>) -> LdapEntry {
    let mut e = LdapEntry::new(user_dn(5))
        .with("uid", &["jane"])
        .with("cn", &["Jane"])
        .with("mobile", &["+1 555 0100"]);
    if let Some(m) = mail {
        e = e.with("mail", &[m]);
    }
    e
}

#[test]
fn value_paths_build_their_element_and_leave_the_others_alone() {
    let config = directory_config();
    let users = mapper(&config, "Users");
    let none = ResolvedReferences::default();
    let created = users
        .map(
            &jane(Some("jane@work.example")),
            Purpose::Create,
            Phase::Resync,
            &none,
        )
        .unwrap()
        .resource;
    assert_eq!(
        created["emails"],
        json!([{"type": "work", "value": "jane@work.example", "display": "Jane"}])
    );
    assert_eq!(
        created["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555 0100"}])
    );

    let held = json!({"id": "x", "userName": "jane",
        "emails": [{"type": "home", "value": "jane@home.example"}, {"type": "Work", "value": "old@work.example", "display": "Jane", "primary": true}],
        "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100"}]});
    let wanted = users
        .map(
            &jane(Some("jane@work.example")),
            Purpose::Update,
            Phase::Resync,
            &none,
        )
        .unwrap()
        .resource;
    assert_eq!(
        patch_operations(&users, &wanted, &held, Phase::Resync, &[]),
        vec![PatchOp {
            op: "replace".into(),
            path: Some("emails[type eq \"work\"].value".into()),
            value: Some(json!("jane@work.example"))
        }]
    );
    // PUT: the work email replaced in place, home and primary kept.
    let body = put_body(&users, &wanted, &held, Phase::Resync);
    assert_eq!(
        body["emails"],
        json!([{"type": "home", "value": "jane@home.example"}, {"type": "work", "value": "jane@work.example", "display": "Jane", "primary": true}])
    );

    // The service has no work email: the element is added whole.
    let no_work = json!({"id": "x", "userName": "jane", "emails": [{"type": "home", "value": "h@x"}],
        "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100"}]});
    assert_eq!(
        patch_operations(&users, &wanted, &no_work, Phase::Resync, &[]),
        vec![PatchOp {
            op: "add".into(),
            path: Some("emails".into()),
            value: Some(json!([{"type": "work", "value": "jane@work.example", "display": "Jane"}]))
        }]
    );
    // mail is gone from LDAP, but cn still gives display: only value is removed.
    let gone = users
        .map(&jane(None), Purpose::Update, Phase::Resync, &none)
        .unwrap()
        .resource;
    assert_eq!(
        patch_operations(&users, &gone, &held, Phase::Resync, &[]),
        vec![PatchOp {
            op: "remove".into(),
            path: Some("emails[type eq \"work\"].value".into()),
            value: None
        }]
    );
    // In line: nothing to do.
    let same = json!({"id": "x", "userName": "jane",
        "emails": [{"type": "work", "value": "jane@work.example", "display": "Jane"}],
        "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100"}]});
    assert!(patch_operations(&users, &wanted, &same, Phase::Resync, &[]).is_empty());
}

#[test]
fn an_element_nobody_wants_is_removed_whole() {
    let mut config = directory_config();
    // Only Work Email owns the element.
    config.endpoint_mappings[0].attribute_mappings = vec!["User Name".into(), "Work Email".into()];
    let users = mapper(&config, "Users");
    let none = ResolvedReferences::default();
    let wanted = users
        .map(&jane(None), Purpose::Update, Phase::Resync, &none)
        .unwrap()
        .resource;
    let held = json!({"id": "x", "userName": "jane",
        "emails": [{"type": "home", "value": "h@x"}, {"type": "work", "value": "old@work.example"}]});
    assert_eq!(
        patch_operations(&users, &wanted, &held, Phase::Resync, &[]),
        vec![PatchOp {
            op: "remove".into(),
            path: Some("emails[type eq \"work\"]".into()),
            value: None
        }]
    );
    let body = put_body(&users, &wanted, &held, Phase::Resync);
    assert_eq!(body["emails"], json!([{"type": "home", "value": "h@x"}]));
}

#[test]
fn member_and_unique_member_make_one_list() {
    let config = directory_config();
    config.validate().unwrap_or_else(|e| {
        // Only the references' own rules matter here; the config has no pipes.
        assert!(
            e.iter().all(|e| !e.field.starts_with("attribute-mappings")),
            "{e:#?}"
        )
    });
    let groups = mapper(&config, "Groups");
    let entry = LdapEntry::new("cn=mixed,ou=groups,dc=example,dc=com")
        .with("cn", &["mixed"])
        .with("member", &[&user_dn(1), &user_dn(2)])
        .with(
            "uniqueMember",
            &[&format!("{}#'01'B", user_dn(2)), &user_dn(3)],
        );
    let wanted = groups
        .map(&entry, Purpose::Update, Phase::Resync, &references(3))
        .unwrap()
        .resource;
    assert_eq!(
        super::reference_ids(&wanted["members"]),
        vec!["id-1", "id-2", "id-3"]
    );
    let ops = patch_operations(&groups, &wanted, &current_group([1, 4]), Phase::Resync, &[]);
    let members: Vec<_> = ops
        .iter()
        .filter(|o| o.path.as_deref().is_some_and(|p| p.starts_with("members")))
        .collect();
    assert_eq!(
        members.len(),
        2,
        "one remove, one add, not once per mapping: {ops:?}"
    );
    assert_eq!(
        reference_changes(
            &groups,
            &wanted,
            Some(&current_group([1, 4])),
            Phase::Resync
        ),
        (2, 1)
    );
}
