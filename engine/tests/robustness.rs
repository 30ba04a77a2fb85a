//! Nothing an LDAP server or a SCIM service sends makes the engine panic: random attribute
//! values go through every mapping type, the diff and the PUT body; random HTTP answers
//! (status, Retry-After, body) go through the real SCIM client and discovery, served by a raw
//! TCP responder that says whatever the case dictates.

use engine::config::{Config, EndpointMapping, QueryMethod, ScimServer};
use engine::crypto::Cipher;
use engine::mapping::references::{ReferenceTarget, ReferencedResource, ResolvedReferences};
use engine::mapping::{
    EndpointMapper, LdapEntry, PatchOp, Phase, Purpose, chunk_operations, patch_operations,
    put_body, reference_changes,
};
use engine::scim::{RetryPolicy, ScimClient};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The resync fixture (every value mapping type) and the directory example (references and
/// value paths).
fn configs() -> Vec<Config> {
    vec![
        serde_json::from_value(test_support::fixture_config(
            "127.0.0.1:1",
            "http://127.0.0.1:1/v2",
            "t",
        ))
        .unwrap(),
        engine::config::examples::directory(),
    ]
}

/// Answers for the entry's referenced DNs: resolved, pending and out of scope in turn.
fn references(mapper: &EndpointMapper, e: &LdapEntry) -> ResolvedReferences {
    let mut r = ResolvedReferences::default();
    for (i, (key, _)) in mapper.referenced_dns(e).into_iter().enumerate() {
        let target = match i % 3 {
            0 => ReferenceTarget::Resource(ReferencedResource {
                endpoint_mapping: "Users".into(),
                id: format!("id-{i}"),
                resource_type: "User".into(),
                display: Some(format!("d{i}")),
            }),
            1 => ReferenceTarget::Pending {
                endpoint_mapping: "Groups".into(),
            },
            _ => ReferenceTarget::OutOfScope,
        };
        r.insert(key, target);
    }
    r
}

/// Strings LDAP servers really send, and worse: dates, numbers, JSON, `$`, huge, empty, binary-ish.
fn ldap_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{1,40}(\\.[0-9]{0,20})?([Zz]|[+-][0-9]{4})?",
        "-?[0-9]{0,30}(\\.[0-9]{0,30})?(e[+-]?[0-9]{1,4})?",
        "(TRUE|FALSE|true|yes|0|1|)",
        "\\{\"value\":\"[^\"]{0,10}\",\"type\":[^}]{0,12}\\}?",
        "[^$]{0,10}(\\$[^$]{0,10}){0,5}\\$?",
        ".{0,3}\\{[A-Z0-9-]{1,12}\\}.{0,20}",
        proptest::collection::vec(any::<char>(), 0..2000).prop_map(|c| c.into_iter().collect()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("id".to_owned()),
                    Just("userName".to_owned()),
                    Just("name".to_owned()),
                    Just("emails".to_owned()),
                    Just("Resources".to_owned()),
                    Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_owned()),
                    "[a-zA-Z]{1,10}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn entry(values: Vec<(String, Vec<String>)>) -> LdapEntry {
    let mut e = LdapEntry::new("uid=x,ou=people,dc=example,dc=com");
    e.attributes.extend(values);
    e
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_ldap_values_and_scim_resources_never_panic_the_mapping(
        picks in proptest::collection::vec((0usize..64, proptest::collection::vec(ldap_value(), 0..4)), 0..20),
        current in json_value(),
    ) {
        for config in configs() {
        for endpoint in &config.endpoint_mappings {
            let mapper = EndpointMapper::new(&config, config.get::<EndpointMapping>(&endpoint.name).unwrap());
            let attrs = mapper.ldap_attributes();
            let values = picks
                .iter()
                .map(|(i, v)| (attrs[i % attrs.len()].clone(), v.clone()))
                .collect();
            let e = entry(values);
            let refs = references(&mapper, &e);
            for phase in [Phase::Resync, Phase::Realtime] {
                for purpose in [Purpose::Create, Purpose::Update] {
                    if let Ok(mapped) = mapper.map(&e, purpose, phase, &refs) {
                        prop_assert!(mapped.resource.get("schemas").is_some());
                        let ops: Vec<PatchOp> = patch_operations(&mapper, &mapped.resource, &current, phase, &attrs);
                        serde_json::to_string(&ops).unwrap();
                        let body = put_body(&mapper, &mapped.resource, &current, phase);
                        prop_assert!(body.get("schemas").is_some());
                        for request in chunk_operations(ops, 3) {
                            prop_assert!(!request.is_empty());
                        }
                        let _ = reference_changes(&mapper, &mapped.resource, Some(&current), phase);
                    }
                }
            }
            let _ = engine::mapping::search_filter(&mapper, &e);
        }
        }
    }
}

/// What the responder answers next.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    content_type: &'static str,
    body: Vec<u8>,
}

fn answer() -> impl Strategy<Value = Answer> {
    let status = prop_oneof![
        Just(200u16),
        Just(201),
        Just(204),
        Just(400),
        Just(401),
        Just(404),
        Just(409),
        Just(412),
        Just(429),
        Just(500),
        Just(503),
        100u16..600
    ];
    let body = prop_oneof![
        json_value().prop_map(|v| v.to_string().into_bytes()),
        json_value().prop_map(|v| json!({"Resources": v, "totalResults": 3}).to_string().into_bytes()),
        json_value().prop_map(|v| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": v, "scimType": v, "detail": v}).to_string().into_bytes()),
        json_value().prop_map(|v| { let t = v.to_string().into_bytes(); t[..t.len() / 2].to_vec() }),
        proptest::collection::vec(any::<u8>(), 0..512),
    ];
    (
        status,
        proptest::option::of(prop_oneof![
            "[0-9]{1,12}",
            ".{0,20}",
            Just("Wed, 21 Oct 2015 07:28:00 GMT".to_owned())
        ]),
        prop_oneof![
            Just("application/scim+json"),
            Just("application/json"),
            Just("text/html")
        ],
        body,
    )
        .prop_map(|(status, retry_after, content_type, body)| Answer {
            status,
            retry_after,
            content_type,
            body,
        })
}

/// A TCP server answering every request with the current `Answer`.
async fn responder(answer: Arc<Mutex<Answer>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                continue;
            };
            let answer = answer.lock().unwrap().clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Read the head and as much body as Content-Length says.
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request);
                    if let Some(head_end) = text.find("\r\n\r\n") {
                        let length = text[..head_end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if request.len() >= head_end + 4 + length {
                            break;
                        }
                    }
                }
                let mut head = format!(
                    "HTTP/1.1 {} Whatever\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                    answer.status,
                    answer.content_type,
                    answer.body.len()
                );
                if let Some(r) = &answer.retry_after {
                    head.push_str(&format!("Retry-After: {r}\r\n"));
                }
                head.push_str("\r\n");
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&answer.body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    port
}

#[test]
fn random_scim_answers_never_panic_the_client() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let current = Arc::new(Mutex::new(Answer {
        status: 200,
        retry_after: None,
        content_type: "application/json",
        body: b"{}".to_vec(),
    }));
    let port = runtime.block_on(responder(current.clone()));
    let mut server: ScimServer = configs()[0].scim_servers[0].clone();
    server.base_url = format!("http://127.0.0.1:{port}/v2");
    server.response_timeout_ms = 2000;
    let cipher = Cipher::ephemeral();
    let client = ScimClient::new(&server, &cipher)
        .unwrap()
        .with_retry(RetryPolicy::with_attempts(1));
    let ops = vec![PatchOp {
        op: "replace".into(),
        path: Some("userName".into()),
        value: Some(json!("x")),
    }];
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 200,
        ..ProptestConfig::default()
    });
    runner
        .run(&answer(), |a| {
            *current.lock().unwrap() = a.clone();
            runtime.block_on(async {
                let results: Vec<Result<String, String>> = vec![
                    client
                        .search("Users", "userName eq \"x\"", QueryMethod::Get)
                        .await
                        .map(|v| format!("{v:?}"))
                        .map_err(|e| e.to_string()),
                    client
                        .search("Users", "userName eq \"x\"", QueryMethod::Post)
                        .await
                        .map(|v| format!("{v:?}"))
                        .map_err(|e| e.to_string()),
                    client
                        .create("Users", &json!({"userName": "x"}))
                        .await
                        .map(|v| v.to_string())
                        .map_err(|e| e.to_string()),
                    client
                        .patch("Users", "id-1", &ops)
                        .await
                        .map(|_| String::new())
                        .map_err(|e| e.to_string()),
                    client
                        .put("Users", "id-1", &json!({"userName": "x"}))
                        .await
                        .map(|_| String::new())
                        .map_err(|e| e.to_string()),
                    client
                        .delete("Users", "id-1")
                        .await
                        .map(|_| String::new())
                        .map_err(|e| e.to_string()),
                    client
                        .get_resource("Users", "id-1")
                        .await
                        .map(|v| v.to_string())
                        .map_err(|e| e.to_string()),
                    engine::scim::probe(&server, &cipher)
                        .await
                        .map(|r| format!("{r:?}"))
                        .map_err(|e| e.to_string()),
                ];
                for r in results {
                    if let Err(message) = r {
                        prop_assert!(!message.is_empty());
                    }
                }
                // A failing status is never taken for success.
                if a.status >= 400 {
                    prop_assert!(client.delete("Users", "id-1").await.is_err());
                }
                Ok(())
            })
        })
        .unwrap();
}
