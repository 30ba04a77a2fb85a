use super::super::examples::example;
use super::super::*;
use serde_json::json;

fn errors_after(change: impl FnOnce(&mut Config)) -> Vec<ValidationError> {
    let mut config = example();
    change(&mut config);
    config.validate().err().unwrap_or_default()
}

/// Asserts exactly one error on (kind, object, field) whose message contains `message`.
#[track_caller]
fn expect_error(
    errors: &[ValidationError],
    kind: Option<ObjectKind>,
    object: &str,
    field: &str,
    message: &str,
) {
    let hits: Vec<_> = errors
        .iter()
        .filter(|e| {
            e.kind == kind && e.object == object && e.field == field && e.message.contains(message)
        })
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "expected one error {kind:?} {object:?} {field:?} containing {message:?}; got {errors:#?}"
    );
}

fn source(c: &mut Config) -> &mut LdapSource {
    &mut c.ldap_sources[0]
}
fn server(c: &mut Config) -> &mut ScimServer {
    &mut c.scim_servers[0]
}
fn mapping<'a>(c: &'a mut Config, name: &str) -> &'a mut AttributeMapping {
    c.attribute_mappings
        .iter_mut()
        .find(|m| m.name == name)
        .unwrap()
}
fn class<'a>(c: &'a mut Config, name: &str) -> &'a mut SyncClass {
    c.sync_classes.iter_mut().find(|m| m.name == name).unwrap()
}

const SRC: Option<ObjectKind> = Some(ObjectKind::LdapSource);
const SRV: Option<ObjectKind> = Some(ObjectKind::ScimServer);
const MAP: Option<ObjectKind> = Some(ObjectKind::AttributeMapping);
const EP: Option<ObjectKind> = Some(ObjectKind::EndpointMapping);
const DEST: Option<ObjectKind> = Some(ObjectKind::ScimDestination);
const PIPE: Option<ObjectKind> = Some(ObjectKind::SyncPipe);
const CLS: Option<ObjectKind> = Some(ObjectKind::SyncClass);

#[test]
fn example_is_valid_and_round_trips() {
    let config = example();
    config.validate().unwrap();
    let mut sealed = config.clone();
    sealed
        .seal_secrets(&crate::crypto::Cipher::ephemeral())
        .unwrap();
    let text = serde_json::to_string(&sealed).unwrap();
    assert_eq!(serde_json::from_str::<Config>(&text).unwrap(), sealed);
}

#[test]
fn every_error_is_returned_at_once() {
    let errors = errors_after(|c| {
        source(c).bind_dn = "bad".into();
        server(c).base_url = "ftp://x".into();
        class(c, "People").include_filter = Some("(uid=".into());
    });
    assert_eq!(errors.len(), 3, "{errors:#?}");
    let text = errors[0].to_string();
    assert!(
        text.contains("LDAP sync source \"Corporate LDAP\": bind-dn = \"bad\""),
        "{text}"
    );
}

#[test]
fn names() {
    let errors = errors_after(|c| {
        c.ldap_sources[0].name = " padded".into();
        c.scim_servers.push(c.scim_servers[0].clone());
        c.sync_pipes[0].description = "x".into();
        mapping(c, "Hire Date").name = "".into();
        mapping(c, "Postal Address").name = "x".repeat(129);
        mapping(c, "Group Name").name = "tab\there".into();
    });
    expect_error(
        &errors,
        SRC,
        " padded",
        "name",
        "must not start or end with spaces",
    );
    expect_error(
        &errors,
        SRV,
        "SCIM Service",
        "name",
        "another SCIM 2.0 external server has this name",
    );
    expect_error(&errors, MAP, "", "name", "is required");
    expect_error(&errors, MAP, &"x".repeat(129), "name", "at most 128");
    expect_error(&errors, MAP, "tab\there", "name", "control characters");
}

#[test]
fn ldap_source_rules() {
    let errors = errors_after(|c| {
        let s = source(c);
        s.servers.push(s.servers[0].clone());
        s.bind_dn = "cn=sync,,dc=x".into();
        s.bind_password = Secret::plain("");
        s.base_dns = vec![
            "dc=example,dc=com".into(),
            "ou=people,dc=example,dc=com".into(),
            "not a dn".into(),
        ];
        s.accesslog_base_dn = "".into();
        s.ca_file = Some(" ".into());
        s.batch_size = 0;
        s.connect_timeout_ms = 10;
        s.response_timeout_ms = 99_999_999;
    });
    let name = "Corporate LDAP";
    expect_error(&errors, SRC, name, "servers[2]", "listed more than once");
    expect_error(&errors, SRC, name, "bind-dn", "empty RDN");
    expect_error(&errors, SRC, name, "bind-password", "is required");
    expect_error(
        &errors,
        SRC,
        name,
        "base-dns[1]",
        "overlaps base DN \"dc=example,dc=com\"",
    );
    expect_error(&errors, SRC, name, "base-dns[2]", "not a valid DN");
    expect_error(&errors, SRC, name, "accesslog-base-dn", "is required");
    expect_error(
        &errors,
        SRC,
        name,
        "ca-file",
        "only applies with connection-security",
    );
    expect_error(&errors, SRC, name, "ca-file", "must not be blank");
    expect_error(&errors, SRC, name, "batch-size", "between 1 and 10000");
    expect_error(&errors, SRC, name, "connect-timeout-ms", "between 100 and");
    expect_error(&errors, SRC, name, "response-timeout-ms", "between 100 and");

    let errors = errors_after(|c| {
        let s = source(c);
        s.servers.clear();
        s.base_dns.clear();
        s.bind_dn.clear();
        s.changelog = ChangelogFlavor::OpenldapAccesslog;
        s.accesslog_base_dn = "cn=access log,,x".into();
    });
    expect_error(&errors, SRC, name, "servers", "needs at least one server");
    expect_error(&errors, SRC, name, "base-dns", "needs at least one base DN");
    expect_error(&errors, SRC, name, "bind-dn", "is required");
    expect_error(&errors, SRC, name, "accesslog-base-dn", "not a valid DN");
    // The same DN twice is one overlap, reported once, at the second.
    let errors = errors_after(|c| source(c).base_dns = vec!["dc=a".into(), "DC=A".into()]);
    expect_error(&errors, SRC, name, "base-dns[1]", "overlaps");
    assert_eq!(
        errors.iter().filter(|e| e.kind == SRC).count(),
        1,
        "{errors:#?}"
    );
}

#[test]
fn host_port_syntax() {
    for (text, message) in [
        ("ldap.example.com", "is not host:port"),
        ("host:0", "is not a port number"),
        ("host:70000", "is not a port number"),
        (":389", "valid host name"),
        ("ldap://h:389", "valid host name"),
    ] {
        let e = text.parse::<HostPort>().unwrap_err();
        assert!(e.contains(message), "{text}: {e}");
    }
    assert_eq!(
        "[::1]:636".parse::<HostPort>().unwrap().to_string(),
        "[::1]:636"
    );
    let mut json = serde_json::to_value(example()).unwrap_or_default();
    if json.is_null() {
        json = serde_json::from_str(super::super::examples::EXAMPLE_JSON).unwrap();
    }
    json["ldap-sources"][0]["servers"][1] = json!("nohost");
    let e = from_json::<Config>(json).unwrap_err();
    assert_eq!(e.path, "ldap-sources[0].servers[1]");
}

#[test]
fn global_settings_rules() {
    let errors =
        errors_after(|c| c.global.changelog_password_decryption_key = Some(Secret::plain("")));
    expect_error(
        &errors,
        None,
        "",
        "changelog-password-decryption-key",
        "is required",
    );
}

#[test]
fn scim_server_rules() {
    let n = "SCIM Service";
    for (url, message) in [
        ("", "is required"),
        ("ftp://host/v2", "http:// or https://"),
        ("not a url", "not a valid URL"),
        ("https://host/v2?x=1", "query string"),
        ("https://host/scim/v2/Users", "without the endpoint"),
    ] {
        let errors = errors_after(|c| server(c).base_url = url.into());
        expect_error(&errors, SRV, n, "base-url", message);
    }
    let errors = errors_after(|c| {
        let s = server(c);
        s.ca_file = Some("/ca.pem".into());
        s.auth = ScimAuth::Basic {
            username: "a:b".into(),
            password: Secret::plain(""),
        };
        s.connect_timeout_ms = 1;
        s.response_timeout_ms = 0;
    });
    expect_error(&errors, SRV, n, "ca-file", "only applies to https");
    expect_error(&errors, SRV, n, "auth.username", "must not contain ':'");
    expect_error(&errors, SRV, n, "auth.password", "is required");
    expect_error(&errors, SRV, n, "connect-timeout-ms", "between");
    expect_error(&errors, SRV, n, "response-timeout-ms", "between");

    let errors = errors_after(|c| {
        server(c).auth = ScimAuth::Basic {
            username: "".into(),
            password: Secret::plain("p"),
        }
    });
    expect_error(&errors, SRV, n, "auth.username", "is required");
    let errors = errors_after(|c| {
        server(c).auth = ScimAuth::BearerToken {
            token: Secret::plain(""),
        }
    });
    expect_error(&errors, SRV, n, "auth.token", "is required");
    let errors = errors_after(|c| {
        server(c).auth = ScimAuth::Oauth2ClientCredentials {
            token_url: "mailto:x".into(),
            client_id: " ".into(),
            client_secret: Secret::plain(""),
            scope: Some("".into()),
        }
    });
    expect_error(&errors, SRV, n, "auth.token-url", "http:// or https://");
    expect_error(&errors, SRV, n, "auth.client-id", "is required");
    expect_error(&errors, SRV, n, "auth.client-secret", "is required");
    expect_error(&errors, SRV, n, "auth.scope", "must not be blank");
    // `none` needs nothing.
    assert!(errors_after(|c| server(c).auth = ScimAuth::None).is_empty());
}

#[test]
fn attribute_mapping_common_rules() {
    let errors = errors_after(|c| {
        let m = mapping(c, "Hire Date");
        m.scim_attribute_name = "2bad".into();
        m.attribute_usage.clear();
        let m = mapping(c, "Given Name");
        m.scim_attribute_name = "urn:x:y".into();
        m.attribute_usage = vec![AttributeUsage::Fetch, AttributeUsage::Fetch];
        mapping(c, "Postal Address").scim_attribute_name = "".into();
    });
    expect_error(
        &errors,
        MAP,
        "Hire Date",
        "scim-attribute-name",
        "not a valid SCIM attribute name",
    );
    expect_error(
        &errors,
        MAP,
        "Hire Date",
        "attribute-usage",
        "needs at least one of fetch",
    );
    expect_error(
        &errors,
        MAP,
        "Given Name",
        "scim-attribute-name",
        "only valid for a Composed Complex",
    );
    expect_error(
        &errors,
        MAP,
        "Given Name",
        "attribute-usage[1]",
        "listed more than once",
    );
    expect_error(
        &errors,
        MAP,
        "Postal Address",
        "scim-attribute-name",
        "is required",
    );
    assert!(
        errors_after(|c| mapping(c, "Hire Date").scim_attribute_name = "$ref".into()).is_empty()
    );
}

#[test]
fn attribute_mapping_syntax_rules() {
    let errors = errors_after(|c| {
        mapping(c, "Hire Date").syntax = MappingSyntax::DateTime {
            ldap_attribute: "".into(),
            single_valued: true,
        };
        mapping(c, "Group Name").syntax = MappingSyntax::String {
            ldap_attribute: "c n".into(),
            single_valued: true,
            default_value: Some("".into()),
        };
        mapping(c, "Postal Address").syntax = MappingSyntax::PostalAddress {
            ldap_attribute: "x;".into(),
            single_valued: true,
        };
    });
    expect_error(
        &errors,
        MAP,
        "Hire Date",
        "syntax.ldap-attribute",
        "is required",
    );
    expect_error(
        &errors,
        MAP,
        "Group Name",
        "syntax.ldap-attribute",
        "not a valid LDAP attribute name",
    );
    expect_error(
        &errors,
        MAP,
        "Group Name",
        "syntax.default-value",
        "must not be empty",
    );
    expect_error(
        &errors,
        MAP,
        "Postal Address",
        "syntax.ldap-attribute",
        "not a valid LDAP attribute name",
    );
    for ok in ["cn", "2.5.4.3", "cn;lang-en", "x-custom-1"] {
        assert!(super::is_ldap_attribute_description(ok), "{ok}");
    }
    // A Number default must be a number: the type guarantees it, the JSON shape enforces it.
    let e = from_json::<AttributeMapping>(
        json!({"name": "n", "scim-attribute-name": "n", "attribute-usage": ["fetch"],
        "syntax": {"type": "number", "ldap-attribute": "x", "default-value": "abc"}}),
    )
    .unwrap_err();
    // Tagged enums are buffered by serde, so the path stops at the enum.
    assert_eq!(e.path, "syntax");
    assert!(e.message.contains("invalid type: string \"abc\""), "{e}");
    let e = from_json::<AttributeMapping>(
        json!({"name": "n", "scim-attribute-name": "n", "attribute-usage": ["fetch"],
        "syntax": {"type": "boolean", "ldap-attribute": "x", "single-valued": true}}),
    )
    .unwrap_err();
    assert!(e.message.contains("unknown field `single-valued`"), "{e}");
    let e = from_json::<AttributeMapping>(
        json!({"name": "n", "scim-attribute-name": "n", "attribute-usage": ["sometimes"],
        "syntax": {"type": "string", "ldap-attribute": "x"}}),
    )
    .unwrap_err();
    assert_eq!(e.path, "attribute-usage[0]");
}

#[test]
fn composed_complex_rules() {
    let errors = errors_after(|c| {
        mapping(c, "Name").syntax = MappingSyntax::ComposedComplex {
            sub_attribute_mappings: vec![
                "Given Name".into(),
                "Given Name".into(),
                "Missing".into(),
                "Name".into(),
                "Emails".into(),
                "Enterprise User".into(),
                "User Name".into(),
            ],
        };
        mapping(c, "User Name").scim_attribute_name = "givenName".into();
    });
    let n = "Name";
    expect_error(
        &errors,
        MAP,
        n,
        "syntax.sub-attribute-mappings[1]",
        "listed more than once",
    );
    expect_error(
        &errors,
        MAP,
        n,
        "syntax.sub-attribute-mappings[2]",
        "there is no SCIM 2.0 attribute mapping",
    );
    expect_error(
        &errors,
        MAP,
        n,
        "syntax.sub-attribute-mappings[3]",
        "cannot be its own sub-attribute",
    );
    expect_error(
        &errors,
        MAP,
        n,
        "syntax.sub-attribute-mappings[4]",
        "cannot contain another complex attribute",
    );
    expect_error(
        &errors,
        MAP,
        n,
        "syntax.sub-attribute-mappings[5]",
        "extension schema mapping cannot be a sub-attribute",
    );
    expect_error(
        &errors,
        MAP,
        n,
        "syntax.sub-attribute-mappings[6]",
        "already named \"givenName\"",
    );

    let errors = errors_after(|c| {
        mapping(c, "Name").syntax = MappingSyntax::ComposedComplex {
            sub_attribute_mappings: vec![],
        }
    });
    expect_error(
        &errors,
        MAP,
        "Name",
        "syntax.sub-attribute-mappings",
        "needs at least one",
    );

    // A cycle through an extension schema (which may nest complex mappings).
    let errors = errors_after(|c| {
        mapping(c, "Enterprise User").syntax = MappingSyntax::ComposedComplex {
            sub_attribute_mappings: vec!["Employee Number".into(), "Name".into()],
        };
        mapping(c, "Name").syntax = MappingSyntax::ComposedComplex {
            sub_attribute_mappings: vec!["Given Name".into(), "Enterprise User".into()],
        };
    });
    expect_error(
        &errors,
        MAP,
        "Enterprise User",
        "syntax.sub-attribute-mappings[1]",
        "cycle",
    );
    // An extension schema may contain a complex attribute (e.g. enterprise `manager`).
    let errors = errors_after(|c| {
        mapping(c, "Enterprise User").syntax = MappingSyntax::ComposedComplex {
            sub_attribute_mappings: vec!["Employee Number".into(), "Name".into()],
        };
    });
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn endpoint_mapping_rules() {
    let errors = errors_after(|c| {
        let e = &mut c.endpoint_mappings[0];
        e.endpoint_path = "/Users/".into();
        e.schema_urns = vec![
            "urn:ietf:params:scim:schemas:core:2.0:User".into(),
            "User".into(),
            "URN:ietf:params:scim:schemas:core:2.0:user".into(),
        ];
        e.attribute_mappings.push("User Name".into());
        e.attribute_mappings.push("Nope".into());
        e.attribute_mappings.push("Given Name".into());
        e.search_attribute_mappings = vec![
            "Hire Date".into(),
            "Name".into(),
            "Emails".into(),
            "User Name".into(),
            "User Name".into(),
        ];
    });
    let n = "Users";
    expect_error(&errors, EP, n, "endpoint-path", "must be a relative path");
    expect_error(&errors, EP, n, "schema-urns[1]", "is not a URN");
    expect_error(&errors, EP, n, "schema-urns[2]", "listed more than once");
    expect_error(
        &errors,
        EP,
        n,
        "attribute-mappings[5]",
        "listed more than once",
    );
    expect_error(
        &errors,
        EP,
        n,
        "attribute-mappings[6]",
        "there is no SCIM 2.0 attribute mapping",
    );
    expect_error(
        &errors,
        EP,
        n,
        "search-attribute-mappings[0]",
        "must also be one of this endpoint's attribute-mappings",
    );
    expect_error(
        &errors,
        EP,
        n,
        "search-attribute-mappings[1]",
        "must be a String, Number, Boolean or DateTime",
    );
    expect_error(
        &errors,
        EP,
        n,
        "search-attribute-mappings[2]",
        "must be a String, Number, Boolean or DateTime",
    );
    expect_error(
        &errors,
        EP,
        n,
        "search-attribute-mappings[4]",
        "listed more than once",
    );
    expect_error(&errors, EP, n, "schema-urns[1]", "is not a URN");
    // The extension URN is no longer declared.
    let errors = errors_after(|c| c.endpoint_mappings[0].schema_urns.truncate(1));
    expect_error(
        &errors,
        EP,
        n,
        "attribute-mappings[3]",
        "not listed in schema-urns",
    );
    // Two mappings to the same SCIM attribute.
    let errors = errors_after(|c| {
        mapping(c, "Group Name").scim_attribute_name = "userName".into();
        c.endpoint_mappings[0]
            .attribute_mappings
            .push("Group Name".into());
    });
    expect_error(
        &errors,
        EP,
        n,
        "attribute-mappings[5]",
        "maps to SCIM attribute \"userName\" like \"User Name\"",
    );
    // Multi-valued search mapping.
    let errors = errors_after(|c| {
        mapping(c, "User Name").syntax = MappingSyntax::String {
            ldap_attribute: "uid".into(),
            single_valued: false,
            default_value: None,
        }
    });
    expect_error(
        &errors,
        EP,
        n,
        "search-attribute-mappings[0]",
        "must be single-valued",
    );
    let errors = errors_after(|c| {
        let e = &mut c.endpoint_mappings[1];
        e.endpoint_path = "".into();
        e.schema_urns.clear();
        e.attribute_mappings.clear();
        e.search_attribute_mappings.clear();
    });
    expect_error(&errors, EP, "Groups", "endpoint-path", "is required");
    expect_error(&errors, EP, "Groups", "schema-urns", "needs at least one");
    expect_error(
        &errors,
        EP,
        "Groups",
        "attribute-mappings",
        "needs at least one",
    );
    expect_error(
        &errors,
        EP,
        "Groups",
        "search-attribute-mappings",
        "needs at least one",
    );
}

#[test]
fn destination_rules() {
    let errors = errors_after(|c| {
        let d = &mut c.scim_destinations[0];
        d.server = "Gone".into();
        d.endpoint_mappings = vec!["Users".into(), "Users".into(), "Nope".into()];
    });
    let n = "SCIM Destination";
    expect_error(
        &errors,
        DEST,
        n,
        "server",
        "there is no SCIM 2.0 external server",
    );
    expect_error(
        &errors,
        DEST,
        n,
        "endpoint-mappings[1]",
        "listed more than once",
    );
    expect_error(
        &errors,
        DEST,
        n,
        "endpoint-mappings[2]",
        "there is no SCIM 2.0 endpoint mapping",
    );
    let errors = errors_after(|c| c.endpoint_mappings[1].endpoint_path = "users".into());
    expect_error(
        &errors,
        DEST,
        n,
        "endpoint-mappings[1]",
        "uses endpoint path \"users\" like \"Users\"",
    );
    let errors = errors_after(|c| {
        c.scim_destinations[0].server.clear();
        c.scim_destinations[0].endpoint_mappings.clear();
        c.sync_classes.retain(|c| !c.synchronizes_anything());
    });
    expect_error(&errors, DEST, n, "server", "is required");
    expect_error(&errors, DEST, n, "endpoint-mappings", "needs at least one");
}

#[test]
fn pipe_rules() {
    let errors = errors_after(|c| {
        let p = &mut c.sync_pipes[0];
        p.source = "Nope".into();
        p.destination = "".into();
        p.worker_count = 0;
        p.max_ops_per_second = Some(0);
        p.retry_attempts = 1000;
        p.polling_interval_ms = 1;
    });
    let n = "LDAP to SCIM";
    expect_error(&errors, PIPE, n, "source", "there is no LDAP sync source");
    expect_error(&errors, PIPE, n, "destination", "is required");
    expect_error(&errors, PIPE, n, "worker-count", "between 1 and 64");
    expect_error(
        &errors,
        PIPE,
        n,
        "max-ops-per-second",
        "between 1 and 100000",
    );
    expect_error(&errors, PIPE, n, "retry-attempts", "between 1 and 100");
    expect_error(
        &errors,
        PIPE,
        n,
        "polling-interval-ms",
        "between 10 and 60000",
    );
}

#[test]
fn sync_class_rules() {
    let errors = errors_after(|c| {
        let k = class(c, "People");
        k.include_base_dns = vec!["ou=people,dc=other,dc=com".into(), "bad".into()];
        k.include_filter = Some("(&(objectClass=person)".into());
        k.evaluation_order = 20;
        k.endpoint_mapping = None;
        let k = class(c, "Groups");
        k.pipe = "Nope".into();
    });
    expect_error(
        &errors,
        CLS,
        "People",
        "include-base-dns[0]",
        "not under any base DN of LDAP sync source \"Corporate LDAP\"",
    );
    expect_error(
        &errors,
        CLS,
        "People",
        "include-base-dns[1]",
        "not a valid DN",
    );
    expect_error(
        &errors,
        CLS,
        "People",
        "include-filter",
        "is not a valid LDAP filter",
    );
    expect_error(
        &errors,
        CLS,
        "People",
        "endpoint-mapping",
        "is required when the class synchronizes",
    );
    expect_error(&errors, CLS, "Groups", "pipe", "there is no sync pipe");
    // Evaluation orders clash only within a pipe.
    let errors = errors_after(|c| class(c, "Groups").evaluation_order = 10);
    expect_error(
        &errors,
        CLS,
        "Groups",
        "evaluation-order",
        "sync class \"People\" of the same pipe",
    );
    // The endpoint must be one of the destination's.
    let errors = errors_after(|c| {
        c.scim_destinations[0]
            .endpoint_mappings
            .retain(|e| e != "Groups");
    });
    expect_error(
        &errors,
        CLS,
        "Groups",
        "endpoint-mapping",
        "is not one of the endpoint mappings",
    );
    let errors = errors_after(|c| class(c, "Groups").pipe = "".into());
    expect_error(&errors, CLS, "Groups", "pipe", "is required");
}

#[test]
fn referrers_block_deletion_targets() {
    let config = example();
    let refs = config.referrers(ObjectKind::AttributeMapping, "Given Name");
    assert_eq!(refs.len(), 1);
    assert_eq!(
        refs[0].from,
        ObjectRef {
            kind: ObjectKind::AttributeMapping,
            name: "Name".into()
        }
    );
    assert_eq!(refs[0].field, "syntax.sub-attribute-mappings[0]");
    assert!(config.referrers(ObjectKind::SyncClass, "People").is_empty());
    let names: Vec<_> = config
        .referrers(ObjectKind::EndpointMapping, "Users")
        .into_iter()
        .map(|r| r.from.name)
        .collect();
    assert_eq!(names, vec!["SCIM Destination", "People"]);
    // Removing a referenced object leaves dangling references that validation reports.
    let mut c = config.clone();
    assert!(c.remove(ObjectKind::LdapSource, "Corporate LDAP"));
    let errors = c.validate().unwrap_err();
    expect_error(
        &errors,
        PIPE,
        "LDAP to SCIM",
        "source",
        "there is no LDAP sync source",
    );
}

#[test]
fn dynamic_object_access() {
    let mut c = example();
    let json = c.object_json(ObjectKind::SyncPipe, "LDAP to SCIM").unwrap();
    assert_eq!(json["worker-count"], 4);
    let mut changed = json.clone();
    changed["worker-count"] = json!(8);
    assert_eq!(
        c.upsert_json(ObjectKind::SyncPipe, changed).unwrap(),
        "LDAP to SCIM"
    );
    assert_eq!(c.sync_pipes.len(), 1);
    assert_eq!(c.sync_pipes[0].worker_count, 8);
    let e = c
        .upsert_json(
            ObjectKind::SyncPipe,
            json!({"name": "p", "source": "s", "destination": "d", "colour": 1}),
        )
        .unwrap_err();
    assert!(e.message.contains("unknown field `colour`"), "{e}");
    assert_eq!(c.names(ObjectKind::ScimServer), vec!["SCIM Service"]);
}

fn add_mapping(c: &mut Config, json: serde_json::Value) {
    c.upsert_json(ObjectKind::AttributeMapping, json).unwrap();
}

const USAGE: [&str; 3] = ["fetch", "create-during-resync", "update-during-resync"];

#[test]
fn reference_mapping_rules() {
    // Valid: members of groups are users or groups; a manager inside the enterprise extension.
    let valid = |c: &mut Config| {
        add_mapping(
            c,
            json!({"name": "Members", "scim-attribute-name": "members", "attribute-usage": USAGE,
            "syntax": {"type": "reference", "ldap-attribute": "member", "endpoint-mappings": ["Users", "Groups"]}}),
        );
        add_mapping(
            c,
            json!({"name": "Manager", "scim-attribute-name": "manager", "attribute-usage": USAGE,
            "syntax": {"type": "reference", "ldap-attribute": "manager", "endpoint-mappings": ["Users"], "single-valued": true}}),
        );
        c.endpoint_mappings[1]
            .attribute_mappings
            .push("Members".into());
        let MappingSyntax::ComposedComplex {
            sub_attribute_mappings,
        } = &mut mapping(c, "Enterprise User").syntax
        else {
            panic!()
        };
        sub_attribute_mappings.push("Manager".into());
    };
    assert_eq!(errors_after(valid), vec![]);
    let mut config = example();
    valid(&mut config);
    assert_eq!(
        config.endpoint_order(&["Groups".into(), "Users".into()]),
        vec![vec!["Users".to_owned()], vec!["Groups".to_owned()]]
    );

    let errors = errors_after(|c| {
        add_mapping(
            c,
            json!({"name": "Bad", "scim-attribute-name": "members", "attribute-usage": USAGE,
            "syntax": {"type": "reference", "ldap-attribute": "member;", "endpoint-mappings": []}}),
        );
        add_mapping(
            c,
            json!({"name": "Nowhere", "scim-attribute-name": "owners", "attribute-usage": USAGE,
            "syntax": {"type": "reference", "ldap-attribute": "owner", "endpoint-mappings": ["Devices", "Users", "Users"]}}),
        );
    });
    expect_error(
        &errors,
        MAP,
        "Bad",
        "syntax.endpoint-mappings",
        "needs at least one endpoint mapping",
    );
    expect_error(
        &errors,
        MAP,
        "Bad",
        "syntax.ldap-attribute",
        "not a valid LDAP attribute name",
    );
    expect_error(
        &errors,
        MAP,
        "Nowhere",
        "syntax.endpoint-mappings[0]",
        "there is no SCIM 2.0 endpoint mapping with this name",
    );
    expect_error(
        &errors,
        MAP,
        "Nowhere",
        "syntax.endpoint-mappings[2]",
        "is listed more than once",
    );

    // A reference is complex: not inside a plain complex attribute, not a search mapping.
    let errors = errors_after(|c| {
        valid(c);
        let MappingSyntax::ComposedComplex {
            sub_attribute_mappings,
        } = &mut mapping(c, "Name").syntax
        else {
            panic!()
        };
        sub_attribute_mappings.push("Manager".into());
        c.endpoint_mappings[1].search_attribute_mappings = vec!["Members".into()];
    });
    expect_error(
        &errors,
        MAP,
        "Name",
        "syntax.sub-attribute-mappings[2]",
        "cannot contain another complex attribute",
    );
    expect_error(
        &errors,
        EP,
        "Groups",
        "search-attribute-mappings[0]",
        "must be a String, Number, Boolean or DateTime",
    );

    // A destination must write every endpoint its references resolve to.
    let errors = errors_after(|c| {
        valid(c);
        c.upsert_json(ObjectKind::EndpointMapping, json!({"name": "Devices", "endpoint-path": "Devices",
            "schema-urns": ["urn:example:Device"], "attribute-mappings": ["Group Name"], "search-attribute-mappings": ["Group Name"]})).unwrap();
        if let MappingSyntax::Reference {
            endpoint_mappings, ..
        } = &mut mapping(c, "Members").syntax
        {
            endpoint_mappings.push("Devices".into());
        }
    });
    expect_error(
        &errors,
        DEST,
        "SCIM Destination",
        "endpoint-mappings[1]",
        "resolves DNs to endpoint mapping \"Devices\", which is not one of this destination's",
    );
    // Deleting an endpoint a reference names is refused.
    let mut config = example();
    valid(&mut config);
    assert!(
        config
            .referrers(ObjectKind::EndpointMapping, "Users")
            .iter()
            .any(|r| r.from.name == "Members" && r.field == "syntax.endpoint-mappings[0]")
    );
}

#[test]
fn value_path_rules() {
    let path = |c: &mut Config, name: &str, scim: &str, syntax: serde_json::Value| {
        add_mapping(
            c,
            json!({"name": name, "scim-attribute-name": scim, "attribute-usage": USAGE, "syntax": syntax}),
        );
        c.endpoint_mappings[0].attribute_mappings.push(name.into());
    };
    let string =
        |attr: &str| json!({"type": "string", "ldap-attribute": attr, "single-valued": true});
    assert_eq!(
        errors_after(|c| {
            path(
                c,
                "Work Email",
                "emails[type eq \"work\"].value",
                string("mail"),
            );
            path(
                c,
                "Work Email Display",
                "emails[type eq \"work\"].display",
                string("cn"),
            );
            path(
                c,
                "Mobile",
                "phoneNumbers[type eq \"mobile\"].value",
                string("mobile"),
            );
            path(
                c,
                "Work Address",
                "addresses[type eq \"work\"].formatted",
                json!({"type": "postal-address", "ldap-attribute": "postalAddress", "single-valued": true}),
            );
            // The example's Emails mapping owns all of emails: use value paths instead.
            c.endpoint_mappings[0]
                .attribute_mappings
                .retain(|m| m != "Emails");
        }),
        vec![]
    );
    let errors = errors_after(|c| {
        path(c, "Broken", "emails[type eq \"work\".value", string("mail"));
        path(
            c,
            "Multi",
            "emails[type eq \"home\"].value",
            json!({"type": "string", "ldap-attribute": "mail"}),
        );
        path(
            c,
            "Json",
            "emails[type eq \"other\"].value",
            json!({"type": "json-formatted-complex", "ldap-attribute": "x"}),
        );
        path(
            c,
            "Twice",
            "phoneNumbers[type eq \"work\"].value",
            string("telephoneNumber"),
        );
        path(
            c,
            "Twice Again",
            "phoneNumbers[type eq \"WORK\"].value",
            string("telephoneNumber"),
        );
    });
    expect_error(
        &errors,
        MAP,
        "Broken",
        "scim-attribute-name",
        "expected ']', found '.' (at character 22)",
    );
    expect_error(
        &errors,
        MAP,
        "Multi",
        "syntax.single-valued",
        "must be single-valued",
    );
    expect_error(
        &errors,
        MAP,
        "Json",
        "scim-attribute-name",
        "only valid for String, Number, Boolean, DateTime and Postal Address",
    );
    // The whole-attribute Emails mapping and a value path into emails clash.
    expect_error(
        &errors,
        EP,
        "Users",
        "attribute-mappings[6]",
        "like \"Emails\" does",
    );
    expect_error(
        &errors,
        EP,
        "Users",
        "attribute-mappings[9]",
        "like \"Twice\" does",
    );
    // Not a search mapping, not a sub-attribute.
    let errors = errors_after(|c| {
        path(
            c,
            "Work Email",
            "emails[type eq \"work\"].value",
            string("mail"),
        );
        c.endpoint_mappings[0].search_attribute_mappings = vec!["Work Email".into()];
        let MappingSyntax::ComposedComplex {
            sub_attribute_mappings,
        } = &mut mapping(c, "Name").syntax
        else {
            panic!()
        };
        sub_attribute_mappings.push("Work Email".into());
    });
    expect_error(
        &errors,
        EP,
        "Users",
        "search-attribute-mappings[0]",
        "not a value path",
    );
    expect_error(
        &errors,
        MAP,
        "Name",
        "syntax.sub-attribute-mappings[2]",
        "cannot be a sub-attribute",
    );
}
