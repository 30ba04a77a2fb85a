use super::*;
use crate::config::examples::example;
use crate::config::{Config, EndpointMapping};
use crate::mapping::references::ResolvedReferences;
use crate::mapping::{LdapEntry, Phase, Purpose};
use serde_json::json;

fn users(config: &Config) -> EndpointMapper {
    EndpointMapper::new(config, config.get::<EndpointMapping>("Users").unwrap())
}

fn entry() -> LdapEntry {
    LdapEntry::new("uid=jdoe,ou=people,dc=example,dc=com")
        .with("uid", &["jdoe"])
        .with("givenName", &["John"])
        .with("sn", &["Doe"])
        .with("nsAccountLock", &["FALSE"])
        .with("employeeNumber", &["42"])
        .with(
            "emailJSON",
            &[r#"{"value":"jdoe@example.com","type":"work"}"#],
        )
}

/// What the service returns for the example user: with id, meta and server-added members.
fn current() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "abc", "meta": {"resourceType": "User", "version": "W/\"1\""},
        "userName": "jdoe",
        "name": {"givenName": "John", "familyName": "Doe", "formatted": "John Doe"},
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": 42.0},
        "emails": [{"value": "jdoe@example.com", "type": "work", "primary": false}]
    })
}

fn ops(config: &Config, e: &LdapEntry, current: &Value) -> Vec<PatchOp> {
    let m = users(config);
    let wanted = m
        .map(
            e,
            Purpose::Update,
            Phase::Resync,
            &ResolvedReferences::default(),
        )
        .unwrap()
        .resource;
    patch_operations(&m, &wanted, current, Phase::Resync, &[])
}

fn op(op: &str, path: &str, value: Option<Value>) -> PatchOp {
    PatchOp {
        op: op.into(),
        path: Some(path.into()),
        value,
    }
}

#[test]
fn in_sync_resource_needs_nothing() {
    // Server-added members (formatted, primary, meta) and 42 vs 42.0 are not differences.
    assert_eq!(ops(&example(), &entry(), &current()), vec![]);
}

#[test]
fn changed_scalars_and_sub_attributes_are_replaced_individually() {
    let e = entry().with("nsAccountLock", &[]);
    let mut e = e;
    e.attributes
        .insert("nsaccountlock".into(), vec!["TRUE".into()]);
    e.attributes.insert("sn".into(), vec!["Dough".into()]);
    e.attributes.remove("givenname");
    e.attributes
        .insert("employeenumber".into(), vec!["43".into()]);
    assert_eq!(
        ops(&example(), &e, &current()),
        vec![
            op("remove", "name.givenName", None),
            op("replace", "name.familyName", Some(json!("Dough"))),
            op("replace", "active", Some(json!(false))),
            op(
                "replace",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                Some(json!(43))
            ),
        ]
    );
}

#[test]
fn multi_valued_complex_values_use_value_filters() {
    let mut config = example();
    config
        .attribute_mappings
        .iter_mut()
        .find(|m| m.name == "Emails")
        .unwrap()
        .always_patch_with_replace = false;
    let mut e = entry();
    e.attributes.insert(
        "emailjson".into(),
        vec![
            r#"{"value":"jdoe@example.com","type":"home"}"#.into(),
            r#"{"value":"new@example.com","type":"work"}"#.into(),
        ],
    );
    let mut cur = current();
    cur["emails"] = json!([{"value": "jdoe@example.com", "type": "work"}, {"value": "old\"@example.com", "type": "other"}]);
    assert_eq!(
        ops(&config, &e, &cur),
        vec![
            op(
                "replace",
                "emails[value eq \"jdoe@example.com\"].type",
                Some(json!("home"))
            ),
            op("remove", "emails[value eq \"old\\\"@example.com\"]", None),
            op(
                "add",
                "emails",
                Some(json!([{"value": "new@example.com", "type": "work"}]))
            ),
        ]
    );
    // The example's Emails mapping has always-patch-with-replace: one replace of the whole set.
    let replaced = ops(&example(), &e, &cur);
    assert_eq!(replaced.len(), 1);
    assert_eq!(replaced[0].op, "replace");
    assert_eq!(replaced[0].path.as_deref(), Some("emails"));
}

#[test]
fn absent_attributes_are_added_and_vanished_ones_removed() {
    let mut cur = current();
    cur.as_object_mut().unwrap().remove("active");
    cur.as_object_mut().unwrap().remove("name");
    let mut e = entry();
    e.attributes.remove("emailjson");
    assert_eq!(
        ops(&example(), &e, &cur),
        vec![
            op(
                "add",
                "name",
                Some(json!({"givenName": "John", "familyName": "Doe"}))
            ),
            op("add", "active", Some(json!(true))),
            op("remove", "emails", None),
        ]
    );
}

#[test]
fn attributes_without_fetch_are_never_compared() {
    let mut config = example();
    let m = config
        .attribute_mappings
        .iter_mut()
        .find(|m| m.name == "Active")
        .unwrap();
    m.attribute_usage
        .retain(|u| *u != crate::config::AttributeUsage::Fetch);
    let mut cur = current();
    cur["active"] = json!(false);
    assert_eq!(ops(&config, &entry(), &cur), vec![]);
}

#[test]
fn date_times_compare_as_instants() {
    let mut config = Config::default();
    config
        .upsert_json(
            crate::config::ObjectKind::AttributeMapping,
            json!({"name": "H", "scim-attribute-name": "hireDate", "attribute-usage": ["fetch", "update-during-resync"],
                   "syntax": {"type": "date-time", "ldap-attribute": "hireDate", "single-valued": true}}),
        )
        .unwrap();
    let endpoint = EndpointMapping {
        name: "E".into(),
        description: String::new(),
        endpoint_path: "Users".into(),
        schema_urns: vec!["urn:ietf:params:scim:schemas:core:2.0:User".into()],
        attribute_mappings: vec!["H".into()],
        search_attribute_mappings: vec!["H".into()],
    };
    let m = EndpointMapper::new(&config, &endpoint);
    let wanted = m
        .map(
            &LdapEntry::new("x").with("hireDate", &["20240301083000+0100"]),
            Purpose::Update,
            Phase::Resync,
            &ResolvedReferences::default(),
        )
        .unwrap()
        .resource;
    assert!(
        patch_operations(
            &m,
            &wanted,
            &json!({"hireDate": "2024-03-01T07:30:00Z"}),
            Phase::Resync,
            &[]
        )
        .is_empty()
    );
    assert_eq!(
        patch_operations(
            &m,
            &wanted,
            &json!({"hireDate": "2024-03-01T07:31:00Z"}),
            Phase::Resync,
            &[]
        )
        .len(),
        1
    );
}

#[test]
fn put_body_keeps_unmapped_attributes() {
    let mut cur = current();
    cur["title"] = json!("Engineer");
    let m = users(&example());
    let mut e = entry();
    e.attributes.remove("emailjson");
    let wanted = m
        .map(
            &e,
            Purpose::Update,
            Phase::Resync,
            &ResolvedReferences::default(),
        )
        .unwrap()
        .resource;
    let body = put_body(&m, &wanted, &cur, Phase::Resync);
    assert_eq!(body["title"], json!("Engineer"));
    assert_eq!(body["id"], json!("abc"));
    assert!(body.get("meta").is_none());
    assert!(
        body.get("emails").is_none(),
        "a fetched attribute no longer wanted is removed"
    );
    assert_eq!(
        body["name"],
        json!({"givenName": "John", "familyName": "Doe"})
    );
}

/// The example with a write-only password mapping (no `fetch`: SCIM never returns passwords).
fn with_password_mapping() -> Config {
    let mut config = example();
    config.attribute_mappings.push(
        serde_json::from_value(json!({
            "name": "Password", "scim-attribute-name": "password",
            "attribute-usage": ["create-during-realtime-sync", "update-during-realtime-sync"],
            "syntax": { "type": "string", "ldap-attribute": "userPassword", "single-valued": true }
        }))
        .unwrap(),
    );
    let users = config
        .endpoint_mappings
        .iter_mut()
        .find(|e| e.name == "Users")
        .unwrap();
    users.attribute_mappings.push("Password".into());
    config
}

fn realtime_ops(config: &Config, e: &LdapEntry, touched: &[&str]) -> Vec<PatchOp> {
    let m = users(config);
    let wanted = m
        .map(
            e,
            Purpose::Update,
            Phase::Realtime,
            &ResolvedReferences::default(),
        )
        .unwrap()
        .resource;
    let touched: Vec<String> = touched.iter().map(|t| t.to_string()).collect();
    patch_operations(&m, &wanted, &current(), Phase::Realtime, &touched)
}

#[test]
fn write_only_mappings_are_written_when_the_change_touches_them() {
    let config = with_password_mapping();
    let clear = entry().with("userPassword", &["n3w secret"]);
    let set = op("replace", "password", Some(json!("n3w secret")));
    assert_eq!(realtime_ops(&config, &clear, &["userpassword"]), vec![set]);
    assert_eq!(
        realtime_ops(&config, &clear, &["mail"]),
        vec![],
        "not touched: cannot be compared, so not sent"
    );
    // Only a hash is known: nothing is sent, and the password is not removed either.
    let hashed = entry().with("userPassword", &["{PBKDF2-SHA512}10000$abc"]);
    assert_eq!(realtime_ops(&config, &hashed, &["userpassword"]), vec![]);
    assert_eq!(realtime_ops(&config, &entry(), &["userpassword"]), vec![]);
    // A resync never writes it: its usage has no resync member.
    let m = users(&config);
    let created = m
        .map(
            &clear,
            Purpose::Create,
            Phase::Resync,
            &ResolvedReferences::default(),
        )
        .unwrap()
        .resource;
    assert!(created.get("password").is_none());
    let created = m
        .map(
            &hashed,
            Purpose::Create,
            Phase::Realtime,
            &ResolvedReferences::default(),
        )
        .unwrap()
        .resource;
    assert!(created.get("password").is_none(), "a hash is never sent");
    let created = m
        .map(
            &clear,
            Purpose::Create,
            Phase::Realtime,
            &ResolvedReferences::default(),
        )
        .unwrap()
        .resource;
    assert_eq!(created["password"], json!("n3w secret"));
}

#[test]
fn a_write_only_attribute_the_change_removed_is_removed() {
    let mut config = example();
    for m in config.attribute_mappings.iter_mut() {
        if m.name == "User Name" {
            m.attribute_usage
                .retain(|u| *u != crate::config::AttributeUsage::Fetch);
        }
    }
    let mut gone = entry();
    gone.attributes.remove("uid");
    assert_eq!(
        realtime_ops(&config, &gone, &["uid"]),
        vec![op("remove", "userName", None)]
    );
    assert_eq!(
        realtime_ops(&config, &entry().with("uid", &[]), &["uid"]),
        vec![op("replace", "userName", Some(json!("jdoe")))]
    );
}
