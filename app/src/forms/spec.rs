//! The fields of each form: labels, help, widgets and when they apply. Keys are the
//! property paths of the configuration document, so validation errors land on them.

use crate::model::{Choice, FieldSpec, FormKind, ShowWhen, Widget};
use engine::config::{
    Config, LdapSource, ObjectKind, ScimDestination, ScimServer, SyncClass, SyncPipe,
};

/// A field plus the value a new object starts with.
pub struct Field {
    pub spec: FieldSpec,
    pub default: String,
}

fn field(key: &str, label: &str, help: &str, widget: Widget) -> Field {
    Field {
        spec: FieldSpec {
            key: key.into(),
            label: label.into(),
            help: help.into(),
            widget,
            required: false,
            create_only: false,
            show_when: None,
        },
        default: String::new(),
    }
}

impl Field {
    fn required(mut self) -> Self {
        self.spec.required = true;
        self
    }
    fn create_only(mut self) -> Self {
        self.spec.create_only = true;
        self
    }
    fn default(mut self, value: &str) -> Self {
        self.default = value.into();
        self
    }
    fn when(mut self, key: &str, values: &[&str]) -> Self {
        self.spec.show_when = Some(ShowWhen {
            key: key.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        });
        self
    }
}

fn text(key: &str, label: &str, help: &str, placeholder: &str) -> Field {
    field(
        key,
        label,
        help,
        Widget::Text {
            placeholder: placeholder.into(),
        },
    )
}
fn lines(key: &str, label: &str, help: &str, placeholder: &str) -> Field {
    field(
        key,
        label,
        help,
        Widget::Lines {
            placeholder: placeholder.into(),
        },
    )
}
fn number(key: &str, label: &str, help: &str, default: &str) -> Field {
    field(
        key,
        label,
        help,
        Widget::Number {
            placeholder: default.into(),
        },
    )
    .default(default)
}
fn checkbox(key: &str, label: &str, help: &str, default: bool) -> Field {
    field(key, label, help, Widget::Checkbox).default(if default { "true" } else { "false" })
}
fn secret(key: &str, label: &str, help: &str) -> Field {
    field(
        key,
        label,
        help,
        Widget::Secret {
            is_set: false,
            clearable: false,
        },
    )
    .required()
}
fn choices(pairs: &[(&str, &str)]) -> Vec<Choice> {
    pairs
        .iter()
        .map(|(v, l)| Choice {
            value: v.to_string(),
            label: l.to_string(),
        })
        .collect()
}
fn select(key: &str, label: &str, help: &str, pairs: &[(&str, &str)]) -> Field {
    let default = pairs.first().map(|p| p.0).unwrap_or_default();
    field(
        key,
        label,
        help,
        Widget::Select {
            choices: choices(pairs),
        },
    )
    .default(default)
}

/// A required choice among existing objects; preselected when there is exactly one.
fn reference(key: &str, label: &str, help: &str, names: Vec<String>) -> Field {
    let default = if names.len() == 1 {
        names[0].clone()
    } else {
        String::new()
    };
    let mut list = vec![Choice {
        value: String::new(),
        label: "— choose —".into(),
    }];
    list.extend(names.into_iter().map(|n| Choice {
        value: n.clone(),
        label: n,
    }));
    field(key, label, help, Widget::Select { choices: list })
        .required()
        .default(&default)
}

fn references(key: &str, label: &str, help: &str, names: Vec<String>) -> Field {
    let list = names
        .into_iter()
        .map(|n| Choice {
            value: n.clone(),
            label: n,
        })
        .collect();
    field(key, label, help, Widget::MultiCheck { choices: list })
}

fn name_fields(what: &str) -> [Field; 2] {
    [
        text("name", "Name", &format!("Identifies this {what}; other objects refer to it by name. It cannot be changed later."), "")
            .required()
            .create_only(),
        text("description", "Description", "Optional notes for other admins.", ""),
    ]
}

const TLS_MODES: [&str; 2] = ["ldaps", "start-tls"];
const VALUED: [&str; 7] = [
    "string",
    "number",
    "boolean",
    "date-time",
    "postal-address",
    "json-formatted-complex",
    "reference",
];

pub fn fields(kind: FormKind, config: &Config) -> Vec<Field> {
    let mut out: Vec<Field> = Vec::new();
    let Some(kind) = kind.object() else {
        out.push(Field {
            spec: FieldSpec {
                key: "changelog-password-decryption-key".into(),
                label: "Changelog password decryption key".into(),
                help: "The passphrase shared with the directory component that adds encrypted copies of new passwords \
                       (ds-changelog-encrypted-password) to changelog records; realtime sync decrypts them to send passwords. \
                       Not needed for 389 DS's clear-text unhashed#user#password. Stored encrypted; leave blank to keep the current key."
                    .into(),
                widget: Widget::Secret { is_set: false, clearable: true },
                required: false,
                create_only: false,
                show_when: None,
            },
            default: String::new(),
        });
        out.push(Field {
            spec: FieldSpec {
                key: "metrics-bearer-token".into(),
                label: "Metrics bearer token".into(),
                help: "When set, /metrics answers only requests with the header Authorization: Bearer <token> \
                       (Prometheus: authorization.credentials). /healthz and /readyz stay open. \
                       Stored encrypted; leave blank to keep the current token."
                    .into(),
                widget: Widget::Secret { is_set: false, clearable: true },
                required: false,
                create_only: false,
                show_when: None,
            },
            default: String::new(),
        });
        return out;
    };
    match kind {
        ObjectKind::LdapSource => {
            out.extend(name_fields("source"));
            out.push(
                lines(
                    "servers",
                    "Servers",
                    "host:port, one per line, in failover order.",
                    "ldap.example.com:389",
                )
                .required(),
            );
            out.push(select(
                "connection-security",
                "Connection security",
                "Plain LDAP, LDAPS (TLS from the start) or StartTLS.",
                &[
                    ("none", "None (plain LDAP)"),
                    ("ldaps", "LDAPS"),
                    ("start-tls", "StartTLS"),
                ],
            ));
            out.push(
                checkbox(
                    "verify-certificates",
                    "Verify server certificates",
                    "Turn off only for tests.",
                    true,
                )
                .when("connection-security", &TLS_MODES),
            );
            out.push(
                text(
                    "ca-file",
                    "CA certificate file",
                    "PEM file of CAs to trust besides the system ones.",
                    "/etc/scimsync/ldap-ca.pem",
                )
                .when("connection-security", &TLS_MODES),
            );
            out.push(text("bind-dn", "Bind DN", "The sync user. It needs read access to the base DNs and the changelog, and no size limit.", "cn=sync,dc=example,dc=com").required());
            out.push(secret(
                "bind-password",
                "Bind password",
                "Stored encrypted; never shown again.",
            ));
            out.push(
                lines(
                    "base-dns",
                    "Base DNs",
                    "Subtrees to synchronize, one per line; they must not overlap.",
                    "ou=people,dc=example,dc=com",
                )
                .required(),
            );
            out.push(select(
                "changelog",
                "Changelog",
                "Where changes are read from in realtime sync.",
                &[
                    (
                        "draft-good",
                        "cn=changelog (PingDirectory, 389 Directory Server, OpenDJ)",
                    ),
                    ("openldap-accesslog", "OpenLDAP accesslog"),
                ],
            ));
            out.push(
                text(
                    "accesslog-base-dn",
                    "Accesslog base DN",
                    "Suffix of the accesslog database.",
                    LdapSource::DEFAULT_ACCESSLOG_BASE_DN,
                )
                .default(LdapSource::DEFAULT_ACCESSLOG_BASE_DN)
                .when("changelog", &["openldap-accesslog"]),
            );
            out.push(checkbox(
                "push-changes",
                "Pushed changes",
                "Ask the server to push new changelog records as they are logged (a persistent search on cn=changelog; \
                 syncrepl on the accesslog, which needs syncprov on that database), so realtime sync need not wait \
                 for its next poll. Polling stays the fallback when the server offers neither.",
                true,
            ));
            out.push(number(
                "batch-size",
                "Batch size",
                "Entries per search page and changelog records per poll (1–10000).",
                &LdapSource::DEFAULT_BATCH_SIZE.to_string(),
            ));
            out.push(number(
                "connect-timeout-ms",
                "Connect timeout (ms)",
                "",
                &LdapSource::DEFAULT_CONNECT_TIMEOUT_MS.to_string(),
            ));
            out.push(number(
                "response-timeout-ms",
                "Response timeout (ms)",
                "",
                &LdapSource::DEFAULT_RESPONSE_TIMEOUT_MS.to_string(),
            ));
        }
        ObjectKind::ScimServer => {
            out.extend(name_fields("server"));
            out.push(
                text(
                    "base-url",
                    "SCIM service URL",
                    "Base URL without an endpoint, e.g. https://scim.example.com/scim/v2.",
                    "https://scim.example.com/scim/v2",
                )
                .required(),
            );
            out.push(select(
                "auth.type",
                "Authorization",
                "How requests are authorized.",
                &[
                    ("bearer-token", "Static bearer token"),
                    ("oauth2-client-credentials", "OAuth 2.0 client credentials"),
                    ("basic", "HTTP Basic"),
                    ("none", "None"),
                ],
            ));
            out.push(
                text("auth.username", "User name", "", "")
                    .required()
                    .when("auth.type", &["basic"]),
            );
            out.push(
                secret("auth.password", "Password", "Stored encrypted.")
                    .when("auth.type", &["basic"]),
            );
            out.push(
                secret(
                    "auth.token",
                    "Bearer token",
                    "Stored encrypted; sent as Authorization: Bearer.",
                )
                .when("auth.type", &["bearer-token"]),
            );
            out.push(
                text(
                    "auth.token-url",
                    "Token endpoint URL",
                    "The OAuth 2.0 token endpoint.",
                    "https://auth.example.com/oauth2/token",
                )
                .required()
                .when("auth.type", &["oauth2-client-credentials"]),
            );
            out.push(
                text("auth.client-id", "Client ID", "", "")
                    .required()
                    .when("auth.type", &["oauth2-client-credentials"]),
            );
            out.push(
                secret("auth.client-secret", "Client secret", "Stored encrypted.")
                    .when("auth.type", &["oauth2-client-credentials"]),
            );
            out.push(
                text("auth.scope", "Scope", "Optional, space-separated.", "")
                    .when("auth.type", &["oauth2-client-credentials"]),
            );
            out.push(checkbox(
                "verify-certificates",
                "Verify server certificates",
                "Turn off only for tests.",
                true,
            ));
            out.push(text(
                "ca-file",
                "CA certificate file",
                "PEM file of CAs to trust besides the system ones (https only).",
                "",
            ));
            out.push(number(
                "connect-timeout-ms",
                "Connect timeout (ms)",
                "",
                &ScimServer::DEFAULT_CONNECT_TIMEOUT_MS.to_string(),
            ));
            out.push(number(
                "response-timeout-ms",
                "Response timeout (ms)",
                "How long to wait for an answer.",
                &ScimServer::DEFAULT_RESPONSE_TIMEOUT_MS.to_string(),
            ));
        }
        ObjectKind::AttributeMapping => {
            let mapping_names = config.names(ObjectKind::AttributeMapping);
            out.extend(name_fields("mapping"));
            out.push(text(
                "scim-attribute-name",
                "SCIM attribute name",
                "As in the SCIM resource, e.g. userName; for an extension schema its URN. A value path \
                 ATTR[SUBATTR eq \"VALUE\"].SUBATTR writes one element of a multi-valued attribute and leaves its \
                 other elements alone: emails[type eq \"work\"].value, phoneNumbers[type eq \"mobile\"].value, \
                 addresses[type eq \"work\"].formatted (String, Number, Boolean, DateTime and Postal Address \
                 mappings, single-valued).",
                "userName",
            )
            .required());
            out.push(select(
                "syntax.type",
                "Type",
                "How values are converted.",
                &[
                    ("string", "String"),
                    ("number", "Number"),
                    ("boolean", "Boolean"),
                    ("date-time", "DateTime (generalized time ↔ RFC 3339)"),
                    ("postal-address", "Postal Address ($ ↔ newline)"),
                    ("composed-complex", "Composed Complex"),
                    ("json-formatted-complex", "JSON-formatted Complex"),
                    (
                        "reference",
                        "Reference (DNs → SCIM ids of other synchronized entries)",
                    ),
                ],
            ));
            out.push(
                text(
                    "syntax.ldap-attribute",
                    "LDAP attribute",
                    "The attribute in the LDAP entry.",
                    "uid",
                )
                .required()
                .when("syntax.type", &VALUED),
            );
            out.push(
                checkbox(
                    "syntax.single-valued",
                    "Single-valued",
                    "Send one value instead of an array (a manager, not a list of members).",
                    false,
                )
                .when(
                    "syntax.type",
                    &[
                        "string",
                        "number",
                        "date-time",
                        "postal-address",
                        "json-formatted-complex",
                        "reference",
                    ],
                ),
            );
            out.push(
                references(
                    "syntax.endpoint-mappings",
                    "Referenced endpoint mappings",
                    "Where the DNs in the LDAP attribute may be synchronized to — e.g. Users and Groups for the members of \
                     a group (nested groups). Each DN becomes {\"value\": its SCIM id}; a DN outside every sync class is \
                     dropped; one not at the destination yet is added when its resource is created. Create the endpoint \
                     mappings (step 5) first, then add this mapping to the one that holds the references.",
                    config.names(ObjectKind::EndpointMapping),
                )
                .required()
                .when("syntax.type", &["reference"]),
            );
            out.push(
                text(
                    "syntax.default-value",
                    "Default value",
                    "Used when the LDAP entry has no value.",
                    "",
                )
                .when("syntax.type", &["string"]),
            );
            out.push(
                field(
                    "syntax.default-value",
                    "Default value",
                    "Used when the LDAP entry has no value.",
                    Widget::Number {
                        placeholder: String::new(),
                    },
                )
                .when("syntax.type", &["number"]),
            );
            out.push(
                select(
                    "syntax.default-value",
                    "Default value",
                    "Used when the LDAP entry has no value.",
                    &[("", "(none)"), ("true", "true"), ("false", "false")],
                )
                .when("syntax.type", &["boolean"]),
            );
            out.push(
                checkbox(
                    "syntax.invert-value",
                    "Invert value",
                    "Send true for LDAP false and false for true (e.g. active from nsAccountLock).",
                    false,
                )
                .when("syntax.type", &["boolean"]),
            );
            out.push(
                references(
                    "syntax.sub-attribute-mappings",
                    "Sub-attribute mappings",
                    "The mappings that make up this complex attribute (or extension schema).",
                    mapping_names,
                )
                .required()
                .when("syntax.type", &["composed-complex"]),
            );
            out.push(
                field(
                    "attribute-usage",
                    "Attribute usage",
                    "When this attribute is used. Choose at least one.",
                    Widget::MultiCheck {
                        choices: choices(&[
                            (
                                "fetch",
                                "fetch — read from the SCIM resource for comparison",
                            ),
                            ("create-during-realtime-sync", "create during realtime sync"),
                            ("create-during-resync", "create during resync"),
                            ("update-during-realtime-sync", "update during realtime sync"),
                            ("update-during-resync", "update during resync"),
                        ]),
                    },
                )
                .required(),
            );
            out.push(select(
                "failed-mapping-behavior",
                "When a value cannot be mapped",
                "",
                &[
                    ("reject", "reject — reject the operation"),
                    (
                        "ignore-entire-attribute",
                        "ignore-entire-attribute — leave the attribute out",
                    ),
                    (
                        "ignore-individual-values",
                        "ignore-individual-values — leave out only the bad values",
                    ),
                ],
            ));
            out.push(checkbox("always-patch-with-replace", "Always PATCH with replace", "Replace the whole attribute instead of adding and removing values (e.g. passwords).", false));
        }
        ObjectKind::EndpointMapping => {
            let mapping_names = config.names(ObjectKind::AttributeMapping);
            out.extend(name_fields("endpoint mapping"));
            out.push(
                text(
                    "endpoint-path",
                    "Endpoint path",
                    "Relative to the SCIM service URL.",
                    "Users",
                )
                .required(),
            );
            out.push(
                lines(
                    "schema-urns",
                    "Schema URNs",
                    "One per line; the core schema first, then extensions.",
                    "urn:ietf:params:scim:schemas:core:2.0:User",
                )
                .required(),
            );
            out.push(
                references(
                    "attribute-mappings",
                    "Attribute mappings",
                    "The SCIM attributes of this endpoint.",
                    mapping_names.clone(),
                )
                .required(),
            );
            out.push(references("search-attribute-mappings", "Search attribute mappings", "Build the filter that finds the resource of an LDAP entry (e.g. userName eq \"jdoe\").", mapping_names).required());
        }
        ObjectKind::ScimDestination => {
            out.extend(name_fields("destination"));
            out.push(reference(
                "server",
                "SCIM 2.0 server",
                "",
                config.names(ObjectKind::ScimServer),
            ));
            out.push(
                references(
                    "endpoint-mappings",
                    "Endpoint mappings",
                    "",
                    config.names(ObjectKind::EndpointMapping),
                )
                .required(),
            );
            out.push(select(
                "update-method",
                "Update method",
                "PATCH sends only the differences; PUT replaces the whole resource.",
                &[("patch", "PATCH"), ("put", "PUT")],
            ));
            out.push(select(
                "query-method",
                "Search method",
                "How existing resources are searched.",
                &[("get", "GET with ?filter="), ("post", "POST /.search")],
            ));
            out.push(number(
                "max-operations-per-patch",
                "Changes per PATCH request",
                "At most this many changes in one PATCH (each added member counts); more go in further requests. \
                 AWS IAM Identity Center accepts 100 (1–10000).",
                &ScimDestination::DEFAULT_MAX_OPERATIONS_PER_PATCH.to_string(),
            ));
            out.push(checkbox(
                "use-bulk",
                "Bulk requests",
                "When the server offers SCIM Bulk (its connection test says so), send creates, updates and deletes \
                 of many entries in one Bulk request, within the server's maximum operations and payload size. \
                 Each entry still gets its own result; turn this off for servers whose Bulk misbehaves.",
                true,
            ));
        }
        ObjectKind::SyncPipe => {
            out.extend(name_fields("pipe"));
            out.push(reference(
                "source",
                "LDAP sync source",
                "",
                config.names(ObjectKind::LdapSource),
            ));
            out.push(reference(
                "destination",
                "SCIM 2.0 sync destination",
                "",
                config.names(ObjectKind::ScimDestination),
            ));
            let workers = engine::config::WORKERS;
            out.push(number(
                "worker-count",
                "Workers",
                &format!(
                    "Changes applied in parallel ({}–{}); changes to one entry stay in order.",
                    workers.start(),
                    workers.end()
                ),
                &SyncPipe::DEFAULT_WORKER_COUNT.to_string(),
            ));
            out.push(field(
                "max-ops-per-second",
                "Maximum operations per second",
                "Leave blank for no limit.",
                Widget::Number {
                    placeholder: "no limit".into(),
                },
            ));
            out.push(number(
                "retry-attempts",
                "Attempts per operation",
                "Before a change is recorded as rejected (1–100).",
                &SyncPipe::DEFAULT_RETRY_ATTEMPTS.to_string(),
            ));
            out.push(number(
                "polling-interval-ms",
                "Changelog polling interval (ms)",
                "How often realtime sync looks for new changes when there are none (10–60000).",
                &SyncPipe::DEFAULT_POLLING_INTERVAL_MS.to_string(),
            ));
            out.push(field(
                "max-deletes-per-hour",
                "Maximum deletes per hour",
                "Deletes (and deactivations) applied in any hour; beyond it, deletes are held until an admin approves or discards them. Leave blank for no limit.",
                Widget::Number {
                    placeholder: "no limit".into(),
                },
            ));
            out.push(field(
                "max-deletes-percent",
                "Maximum deletes per hour (% of synchronized resources)",
                "The same limit as a share of the pipe's resources (1–100); the lower limit applies. Leave blank for none.",
                Widget::Number {
                    placeholder: "no limit".into(),
                },
            ));
        }
        ObjectKind::SyncClass => {
            out.extend(name_fields("class"));
            out.push(reference(
                "pipe",
                "Sync pipe",
                "",
                config.names(ObjectKind::SyncPipe),
            ));
            out.push(lines(
                "include-base-dns",
                "Include base DNs",
                "Optional, one per line; inside the source's base DNs.",
                "ou=people,dc=example,dc=com",
            ));
            out.push(text(
                "include-filter",
                "Include filter",
                "Optional LDAP filter entries must match.",
                "(objectClass=inetOrgPerson)",
            ));
            out.push(number(
                "evaluation-order",
                "Evaluation order",
                "Classes are tried in ascending order; the first match wins.",
                &SyncClass::DEFAULT_EVALUATION_ORDER.to_string(),
            ));
            out.push(checkbox(
                "synchronize-creates",
                "Synchronize creates",
                "",
                true,
            ));
            out.push(checkbox(
                "synchronize-modifies",
                "Synchronize modifies",
                "",
                true,
            ));
            out.push(checkbox(
                "synchronize-deletes",
                "Synchronize deletes",
                "",
                true,
            ));
            out.push(select(
                "delete-action",
                "When an entry is deleted or leaves the class",
                "Delete its resource, or keep it with active set to false (reactivated when the entry is back).",
                &[("delete", "Delete the resource"), ("deactivate", "Deactivate it (active: false)")],
            ));
            let mut endpoint = reference(
                "endpoint-mapping",
                "Endpoint mapping",
                "Where matching entries go. Leave unset for a class that excludes entries.",
                config.names(ObjectKind::EndpointMapping),
            );
            endpoint.spec.required = false;
            if let Widget::Select { choices } = &mut endpoint.spec.widget {
                choices[0].label = "(none — matching entries are not synchronized)".into();
            }
            out.push(endpoint);
        }
    }
    out
}
