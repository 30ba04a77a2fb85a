use super::*;
use crate::config::examples::example;
use crate::mapping::references::ResolvedReferences;
use serde_json::json;

fn entry() -> LdapEntry {
    LdapEntry::new("uid=jdoe,ou=people,dc=example,dc=com")
        .with("uid", &["jdoe"])
        .with("givenName", &["John"])
        .with("sn", &["Doe"])
        .with("nsAccountLock", &["FALSE"])
        .with("employeeNumber", &["42"])
        .with(
            "emailJSON",
            &[
                r#"{"value":"jdoe@example.com","type":"work","primary":true}"#,
                r#"{"value":"j@home.example","type":"home"}"#,
            ],
        )
}

fn users(config: &Config) -> EndpointMapper {
    EndpointMapper::new(config, config.get::<EndpointMapping>("Users").unwrap())
}

/// A one-mapping endpoint built from the mapping's JSON.
fn single(mapping: serde_json::Value) -> EndpointMapper {
    let mut config = Config::default();
    let name = mapping["name"].as_str().unwrap().to_owned();
    config
        .upsert_json(crate::config::ObjectKind::AttributeMapping, mapping)
        .unwrap();
    let endpoint = EndpointMapping {
        name: "E".into(),
        description: String::new(),
        endpoint_path: "Users".into(),
        schema_urns: vec!["urn:ietf:params:scim:schemas:core:2.0:User".into()],
        attribute_mappings: vec![name.clone()],
        search_attribute_mappings: vec![name],
    };
    EndpointMapper::new(&config, &endpoint)
}

fn map(m: &EndpointMapper, e: &LdapEntry) -> Result<MappedResource, MappingIssue> {
    m.map(
        e,
        Purpose::Create,
        Phase::Resync,
        &ResolvedReferences::default(),
    )
}

#[test]
fn maps_every_type_of_the_example_users_endpoint() {
    let config = example();
    let mapped = map(&users(&config), &entry()).unwrap();
    assert_eq!(
        mapped.resource,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": "jdoe",
            "name": {"givenName": "John", "familyName": "Doe"},
            "active": true,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": 42},
            "emails": [
                {"value": "jdoe@example.com", "type": "work", "primary": true},
                {"value": "j@home.example", "type": "home"}
            ]
        })
    );
    assert!(mapped.ignored.is_empty());
    let mut attrs = users(&config).ldap_attributes();
    attrs.sort();
    assert_eq!(
        attrs,
        vec![
            "emailjson",
            "employeenumber",
            "givenname",
            "nsaccountlock",
            "sn",
            "uid"
        ]
    );
}

#[test]
fn usage_selects_attributes_per_operation_and_phase() {
    // Given/Family Name are create/update during resync only; userName everywhere.
    let config = example();
    let realtime = users(&config)
        .map(
            &entry(),
            Purpose::Create,
            Phase::Realtime,
            &ResolvedReferences::default(),
        )
        .unwrap()
        .resource;
    assert_eq!(realtime.get("userName"), Some(&json!("jdoe")));
    assert!(realtime.get("name").is_none(), "{realtime}");
    assert!(realtime.get("active").is_none());
    // No extension data, so the extension schema is not listed.
    assert_eq!(
        realtime["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
}

#[test]
fn date_time_postal_address_and_strings() {
    let m = single(
        json!({"name": "Hire", "scim-attribute-name": "hireDate", "attribute-usage": ["create-during-resync"],
        "syntax": {"type": "date-time", "ldap-attribute": "hireDate", "single-valued": true}}),
    );
    let out = map(
        &m,
        &LdapEntry::new("x").with("hireDate", &["20240301083000+0100"]),
    )
    .unwrap();
    assert_eq!(out.resource["hireDate"], json!("2024-03-01T08:30:00+01:00"));

    let m = single(
        json!({"name": "Addr", "scim-attribute-name": "postal", "attribute-usage": ["create-during-resync"],
        "syntax": {"type": "postal-address", "ldap-attribute": "postalAddress"}}),
    );
    let out = map(
        &m,
        &LdapEntry::new("x").with(
            "postalAddress",
            &["1 Main St$Springfield", "PO Box 7$Shelbyville"],
        ),
    )
    .unwrap();
    assert_eq!(
        out.resource["postal"],
        json!(["1 Main St\nSpringfield", "PO Box 7\nShelbyville"])
    );

    // Multi-valued strings stay an array even with one value; defaults fill absent attributes.
    let m = single(
        json!({"name": "T", "scim-attribute-name": "titles", "attribute-usage": ["create-during-resync"],
        "syntax": {"type": "string", "ldap-attribute": "title", "default-value": "Staff"}}),
    );
    assert_eq!(
        map(&m, &LdapEntry::new("x").with("title", &["Boss"]))
            .unwrap()
            .resource["titles"],
        json!(["Boss"])
    );
    assert_eq!(
        map(&m, &LdapEntry::new("x")).unwrap().resource["titles"],
        json!(["Staff"])
    );
}

#[test]
fn booleans_invert_and_default() {
    let m = single(
        json!({"name": "A", "scim-attribute-name": "active", "attribute-usage": ["create-during-resync"],
        "syntax": {"type": "boolean", "ldap-attribute": "locked", "invert-value": true, "default-value": true}}),
    );
    assert_eq!(
        map(&m, &LdapEntry::new("x").with("locked", &["TRUE"]))
            .unwrap()
            .resource["active"],
        json!(false)
    );
    assert_eq!(
        map(&m, &LdapEntry::new("x").with("locked", &["false"]))
            .unwrap()
            .resource["active"],
        json!(true)
    );
    assert_eq!(
        map(&m, &LdapEntry::new("x")).unwrap().resource["active"],
        json!(true)
    );
}

fn numbers(behavior: &str, single_valued: bool) -> EndpointMapper {
    single(
        json!({"name": "N", "scim-attribute-name": "codes", "attribute-usage": ["create-during-resync"],
        "failed-mapping-behavior": behavior,
        "syntax": {"type": "number", "ldap-attribute": "code", "single-valued": single_valued}}),
    )
}

#[test]
fn failed_mapping_behavior_reject() {
    let e = LdapEntry::new("x").with("code", &["1", "two", "3"]);
    let err = map(&numbers("reject", false), &e).unwrap_err();
    assert_eq!(
        err.to_string(),
        "attribute mapping \"N\" (code): \"two\" is not a number"
    );
}

#[test]
fn failed_mapping_behavior_ignore_entire_attribute() {
    let e = LdapEntry::new("x").with("code", &["1", "two", "3"]);
    let out = map(&numbers("ignore-entire-attribute", false), &e).unwrap();
    assert!(out.resource.get("codes").is_none(), "{}", out.resource);
    assert_eq!(out.ignored.len(), 1);
}

#[test]
fn failed_mapping_behavior_ignore_individual_values() {
    let e = LdapEntry::new("x").with("code", &["1", "two", "3"]);
    let out = map(&numbers("ignore-individual-values", false), &e).unwrap();
    assert_eq!(out.resource["codes"], json!([1, 3]));
    assert_eq!(out.ignored[0].reason, "\"two\" is not a number");
    // Nothing mappable: as ignore-entire-attribute.
    let out = map(
        &numbers("ignore-individual-values", false),
        &LdapEntry::new("x").with("code", &["x"]),
    )
    .unwrap();
    assert!(out.resource.get("codes").is_none());
    // Single-valued: the same as ignore-entire-attribute, also for too many values.
    let out = map(
        &numbers("ignore-individual-values", true),
        &LdapEntry::new("x").with("code", &["1", "2"]),
    )
    .unwrap();
    assert!(out.resource.get("codes").is_none());
    assert_eq!(
        out.ignored[0].reason,
        "2 values for a single-valued mapping"
    );
    let err = map(
        &numbers("reject", true),
        &LdapEntry::new("x").with("code", &["1", "2"]),
    )
    .unwrap_err();
    assert_eq!(err.reason, "2 values for a single-valued mapping");
}

#[test]
fn bad_values_in_composed_and_json_mappings() {
    let config = example();
    let bad_json = entry().with("emailJSON", &["not json"]);
    let mut e = bad_json.clone();
    e.attributes
        .insert("emailjson".into(), vec!["not json".into()]);
    // Emails is reject (the default): the whole operation is rejected.
    let err = map(&users(&config), &e).unwrap_err();
    assert_eq!(err.mapping, "Emails");
    assert!(
        err.reason.starts_with("\"not json\" is not JSON"),
        "{}",
        err.reason
    );
    // Employee Number is ignore-entire-attribute: the extension disappears, nothing is rejected.
    let mut e = entry();
    e.attributes
        .insert("employeenumber".into(), vec!["n/a".into()]);
    let out = map(&users(&config), &e).unwrap();
    assert!(
        out.resource
            .get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            .is_none()
    );
    assert_eq!(
        out.resource["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
}
