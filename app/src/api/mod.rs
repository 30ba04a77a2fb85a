//! Server functions behind the console. Rule violations come back inside `Ok` values
//! (as field errors) so the form can show them; `Err` is kept for real failures.

use crate::model::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

mod access;
mod held_deletes;
mod overview;
mod preview;
mod realtime;
mod rejections;
mod resync;
mod sync_log;
pub use access::*;
pub use held_deletes::*;
pub use overview::*;
pub use preview::*;
pub use realtime::*;
pub use rejections::*;
pub use resync::*;
pub use sync_log::*;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    pub use crate::forms::convert::{self, to_json, to_values};
    pub use crate::forms::spec;
    pub use crate::state::AppState;
    pub use engine::config::{Config, ObjectKind};
    use leptos::prelude::*;

    pub fn state() -> Result<AppState, ServerFnError> {
        use_context::<AppState>().ok_or_else(|| ServerFnError::new("server state is missing"))
    }

    pub fn fail(e: impl std::fmt::Display) -> ServerFnError {
        tracing::error!("{e}");
        ServerFnError::new(e.to_string())
    }

    /// An admin's action on one entry that could not run, answered with the status that
    /// says why: 404 for what does not exist, 409 for what cannot be done now, 502 for a
    /// source that failed, 503 for a store that did; 500 only for the unforeseen.
    pub fn action_failed(e: engine::sync::ActionError) -> ServerFnError {
        use axum::http::StatusCode;
        use engine::sync::{ActionError, PlanError};
        let status = match &e {
            ActionError::NotFound { .. } | ActionError::Plan(PlanError::NoPipe(_)) => {
                StatusCode::NOT_FOUND
            }
            ActionError::NotOpen(..) | ActionError::Plan(PlanError::Incomplete(_)) => {
                StatusCode::CONFLICT
            }
            ActionError::Ldap(_) => StatusCode::BAD_GATEWAY,
            ActionError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            ActionError::Plan(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!("{e}");
        }
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
        ServerFnError::new(e.to_string())
    }

    /// Who is making this request (the access guard put them on the request).
    pub fn signed_in_user() -> Option<engine::store::ConsoleUser> {
        use_context::<axum::http::request::Parts>()
            .and_then(|p| p.extensions.get::<engine::store::ConsoleUser>().cloned())
    }

    /// The audit log's name for who is making this request.
    pub fn actor() -> String {
        signed_in_user()
            .map(|u| format!("console:{}", u.username))
            .unwrap_or_else(|| "console:unknown".into())
    }

    /// Records a change in the audit log; a failure to record is logged, not shown.
    pub async fn audit(
        st: &AppState,
        action: &str,
        target: impl AsRef<str>,
        detail: impl AsRef<str>,
    ) {
        if let Err(e) = st
            .store
            .record_audit(&actor(), action, target.as_ref(), detail.as_ref())
            .await
        {
            tracing::error!("writing the audit log: {e}");
        }
    }

    /// Names of the properties that differ (values are never recorded: some are secrets).
    pub fn changed_fields(before: Option<&serde_json::Value>, after: &serde_json::Value) -> String {
        let empty = serde_json::Map::new();
        let before = before.and_then(|b| b.as_object()).unwrap_or(&empty);
        let after = after.as_object().unwrap_or(&empty);
        let mut names: Vec<&str> = after
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(*v))
            .map(|(k, _)| k.as_str())
            .chain(
                before
                    .keys()
                    .filter(|k| !after.contains_key(*k))
                    .map(String::as_str),
            )
            .filter(|k| *k != "name")
            .collect();
        names.sort_unstable();
        names.dedup();
        if names.is_empty() {
            "no property changed".into()
        } else {
            format!("changed: {}", names.join(", "))
        }
    }

    pub fn top(message: impl Into<String>) -> crate::model::FormError {
        crate::model::FormError {
            field: None,
            message: message.into(),
        }
    }
}

/// Status of each of the eleven steps.
#[server]
pub async fn setup_status() -> Result<Vec<StepStatus>, ServerFnError> {
    use ssr::*;
    let st = state()?;
    let config = st.store.load_config().await.map_err(fail)?;
    let startpoints = st.store.startpoints().await.map_err(fail)?;
    let last_runs = st.store.last_resync_runs().await.map_err(fail)?;
    let count = |kind: ObjectKind| config.names(kind).len();
    let listed = |kind: ObjectKind| {
        let names = config.names(kind);
        if names.is_empty() {
            "none yet".to_owned()
        } else {
            names.join(", ")
        }
    };
    let objects = |kind: ObjectKind, needs: &[ObjectKind]| {
        if needs.iter().any(|k| count(*k) == 0) {
            StepStatus {
                number: kind.step(),
                state: StepState::Blocked,
                summary: "needs the steps before it".into(),
            }
        } else {
            let state = if count(kind) > 0 {
                StepState::Done
            } else {
                StepState::Missing
            };
            StepStatus {
                number: kind.step(),
                state,
                summary: listed(kind),
            }
        }
    };
    let pipes = config.names(ObjectKind::SyncPipe);
    let classless: Vec<&String> = pipes
        .iter()
        .filter(|p| {
            !config
                .sync_classes
                .iter()
                .any(|c| &c.pipe == *p && c.synchronizes_anything())
        })
        .collect();
    let without_startpoint: Vec<&String> = pipes
        .iter()
        .filter(|p| !startpoints.contains_key(*p))
        .collect();
    let blocked = |n: u8| StepStatus {
        number: n,
        state: StepState::Blocked,
        summary: "needs a sync pipe".into(),
    };
    Ok(vec![
        objects(ObjectKind::LdapSource, &[]),
        StepStatus {
            number: 2,
            state: if config.global.changelog_password_decryption_key.is_some() {
                StepState::Done
            } else {
                StepState::Optional
            },
            summary: if config.global.changelog_password_decryption_key.is_some() {
                "key stored".into()
            } else {
                "optional, not set".into()
            },
        },
        objects(ObjectKind::ScimServer, &[]),
        objects(ObjectKind::AttributeMapping, &[]),
        objects(ObjectKind::EndpointMapping, &[ObjectKind::AttributeMapping]),
        objects(
            ObjectKind::ScimDestination,
            &[ObjectKind::ScimServer, ObjectKind::EndpointMapping],
        ),
        objects(
            ObjectKind::SyncPipe,
            &[ObjectKind::LdapSource, ObjectKind::ScimDestination],
        ),
        if pipes.is_empty() {
            blocked(8)
        } else if classless.is_empty() {
            StepStatus {
                number: 8,
                state: StepState::Done,
                summary: listed(ObjectKind::SyncClass),
            }
        } else {
            StepStatus {
                number: 8,
                state: StepState::Missing,
                summary: format!(
                    "no class synchronizes anything for {}",
                    classless
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        },
        if pipes.is_empty() {
            blocked(9)
        } else if without_startpoint.is_empty() {
            StepStatus {
                number: 9,
                state: StepState::Done,
                summary: format!("set for {}", pipes.join(", ")),
            }
        } else {
            StepStatus {
                number: 9,
                state: StepState::Missing,
                summary: format!(
                    "not set for {}",
                    without_startpoint
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        },
        resync_step(&pipes, &last_runs, &st.resyncs),
        realtime_step(&pipes, &st).await.map_err(fail)?,
    ])
}

/// Step 11 is done when realtime sync of every pipe is started and running.
#[cfg(feature = "ssr")]
async fn realtime_step(
    pipes: &[String],
    st: &crate::state::AppState,
) -> Result<StepStatus, engine::store::StoreError> {
    if pipes.is_empty() {
        return Ok(StepStatus {
            number: 11,
            state: StepState::Blocked,
            summary: "needs a sync pipe".into(),
        });
    }
    let mut states = Vec::new();
    for p in pipes {
        let r = realtime::pipe_realtime(st, p).await?;
        states.push((p.clone(), r.state()));
    }
    let done = states.iter().all(|(_, s)| *s == RealtimeState::Running);
    let summary = states
        .iter()
        .map(|(p, s)| format!("{p}: {s}"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(StepStatus {
        number: 11,
        state: if done {
            StepState::Done
        } else {
            StepState::Missing
        },
        summary,
    })
}

/// Step 10 is done when every pipe's last resync changed the destination and finished.
#[cfg(feature = "ssr")]
fn resync_step(
    pipes: &[String],
    last_runs: &std::collections::BTreeMap<String, engine::sync::ResyncStatus>,
    jobs: &engine::sync::ResyncJobs,
) -> StepStatus {
    if pipes.is_empty() {
        return StepStatus {
            number: 10,
            state: StepState::Blocked,
            summary: "needs a sync pipe".into(),
        };
    }
    if let Some(running) = pipes
        .iter()
        .find(|p| jobs.status(p).is_some_and(|s| s.running))
    {
        return StepStatus {
            number: 10,
            state: StepState::Missing,
            summary: format!("running for {running}"),
        };
    }
    let pending: Vec<&str> = pipes
        .iter()
        .filter(|p| {
            !last_runs
                .get(*p)
                .is_some_and(|r| !r.dry_run && r.error.is_none())
        })
        .map(String::as_str)
        .collect();
    if pending.is_empty() {
        let summary = pipes
            .iter()
            .filter_map(|p| last_runs.get(p).map(|r| (p, r.counts)))
            .map(|(p, c)| {
                format!(
                    "{p}: {} created, {} modified, {} in sync, {} rejected",
                    c.created, c.modified, c.in_sync, c.rejected
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        StepStatus {
            number: 10,
            state: StepState::Done,
            summary,
        }
    } else {
        StepStatus {
            number: 10,
            state: StepState::Missing,
            summary: format!("no completed resync for {}", pending.join(", ")),
        }
    }
}

/// Step 5: which endpoint mappings reference which (Reference mappings) and the order resync
/// writes them in.
#[server]
pub async fn endpoint_graph() -> Result<EndpointGraphView, ServerFnError> {
    use ssr::*;
    let config = state()?.store.load_config().await.map_err(fail)?;
    let references = config
        .endpoint_references()
        .into_iter()
        .map(|r| (r.from, r.to, r.mapping))
        .collect();
    let order = config.endpoint_order(&config.names(ObjectKind::EndpointMapping));
    Ok(EndpointGraphView { references, order })
}

#[server]
pub async fn list_objects(kind: ObjectKind) -> Result<Vec<ObjectSummary>, ServerFnError> {
    use ssr::*;
    let config = state()?.store.load_config().await.map_err(fail)?;
    Ok(config
        .names(kind)
        .into_iter()
        .map(|name| ObjectSummary {
            facts: crate::forms::summary::facts(&config, kind, &name),
            used_by: config
                .referrers(kind, &name)
                .into_iter()
                .map(|r| format!("{} \"{}\"", r.from.kind.label(), r.from.name))
                .collect(),
            name,
        })
        .collect())
}

/// The form for a new object (`name` = None) or an existing one, or the global settings.
#[server]
pub async fn load_object_form(
    kind: FormKind,
    name: Option<String>,
) -> Result<ObjectForm, ServerFnError> {
    use ssr::*;
    let config = state()?.store.load_config().await.map_err(fail)?;
    let mut fields = spec::fields(kind, &config);
    let (testable, existing) = match kind {
        FormKind::GlobalSettings => (
            false,
            Some(serde_json::to_value(&config.global).map_err(fail)?),
        ),
        FormKind::Object(k) => {
            let existing = match &name {
                Some(n) => Some(config.object_json(k, n).ok_or_else(|| {
                    ServerFnError::new(format!("there is no {} named \"{n}\"", k.label()))
                })?),
                None => None,
            };
            (
                matches!(k, ObjectKind::LdapSource | ObjectKind::ScimServer),
                existing,
            )
        }
    };
    let values = match &existing {
        Some(json) => to_values(&mut fields, json),
        None => convert::defaults(&fields),
    };
    Ok(ObjectForm {
        kind,
        kind_label: kind.label().to_owned(),
        name,
        fields: fields.into_iter().map(|f| f.spec).collect(),
        values,
        testable,
    })
}

/// Creates (`original` = None) or updates an object from form values.
#[server(input = Json)]
pub async fn save_object(
    kind: FormKind,
    original: Option<String>,
    values: FormValues,
) -> Result<SaveOutcome, ServerFnError> {
    use engine::store::SaveError;
    use ssr::*;
    let st = state()?;
    let config = st.store.load_config().await.map_err(fail)?;
    let fields = spec::fields(kind, &config);
    let object_kind = kind.object();
    let existing = match (object_kind, &original) {
        (None, _) => Some(serde_json::to_value(&config.global).map_err(fail)?),
        (Some(k), Some(n)) => config.object_json(k, n),
        (Some(_), None) => None,
    };
    let mut json = match to_json(&fields, &values, existing.as_ref()) {
        Ok(json) => json,
        Err(errors) => {
            return Ok(SaveOutcome {
                saved: None,
                errors,
            });
        }
    };
    if let Some(n) = &original {
        // Names identify objects; the form does not edit them.
        json["name"] = serde_json::Value::String(n.clone());
    }
    let name = json
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or_default()
        .to_owned();
    let saved_json = json.clone();
    let result = match (object_kind, &original) {
        (None, _) => match engine::config::from_json(json) {
            Ok(global) => st.store.set_global(global).await,
            Err(e) => {
                return Ok(SaveOutcome {
                    saved: None,
                    errors: vec![convert::shape_error(&e, &fields, &values)],
                });
            }
        },
        (Some(k), Some(n)) => st.store.update(k, n, json).await,
        (Some(k), None) => st.store.create(k, json).await.map(drop),
    };
    let errors = match result {
        Ok(()) => {
            let (action, target) = match (object_kind, &original) {
                (None, _) => ("update", "global settings".to_owned()),
                (Some(k), Some(_)) => ("update", format!("{} \"{name}\"", k.label())),
                (Some(k), None) => ("create", format!("{} \"{name}\"", k.label())),
            };
            audit(
                &st,
                action,
                target,
                changed_fields(existing.as_ref(), &saved_json),
            )
            .await;
            return Ok(SaveOutcome {
                saved: Some(name),
                errors: vec![],
            });
        }
        Err(SaveError::Invalid(errors)) => {
            convert::validation_errors(&errors, object_kind, &name, &fields, &values)
        }
        Err(SaveError::Shape { error, .. }) => vec![convert::shape_error(&error, &fields, &values)],
        Err(e @ SaveError::AlreadyExists { .. }) => vec![FormError {
            field: Some("name".into()),
            message: e.to_string(),
        }],
        Err(SaveError::Store(e)) => return Err(fail(e)),
        Err(e) => vec![top(e.to_string())],
    };
    Ok(SaveOutcome {
        saved: None,
        errors,
    })
}

/// Deletes an object; `Some(reason)` when it was refused (e.g. still referenced).
#[server]
pub async fn delete_object(
    kind: ObjectKind,
    name: String,
) -> Result<Option<String>, ServerFnError> {
    use engine::store::SaveError;
    use ssr::*;
    let st = state()?;
    match st.store.delete(kind, &name).await {
        Ok(()) => {
            audit(&st, "delete", format!("{} \"{name}\"", kind.label()), "").await;
            Ok(None)
        }
        Err(SaveError::Store(e)) => Err(fail(e)),
        Err(e) => Ok(Some(e.to_string())),
    }
}

/// "Test connection" with the values in the form (saved or not).
#[server(input = Json)]
pub async fn test_connection(
    kind: ObjectKind,
    original: Option<String>,
    values: FormValues,
) -> Result<ProbeOutcome, ServerFnError> {
    use ssr::*;
    let st = state()?;
    let config = st.store.load_config().await.map_err(fail)?;
    let k = kind;
    let fields = spec::fields(k.into(), &config);
    let existing = original.as_ref().and_then(|n| config.object_json(k, n));
    let outcome = |errors: Vec<FormError>| ProbeOutcome {
        reachable: false,
        facts: vec![],
        problems: vec![],
        errors,
    };
    let mut json = match to_json(&fields, &values, existing.as_ref()) {
        Ok(json) => json,
        Err(errors) => return Ok(outcome(errors)),
    };
    if json
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or("")
        .is_empty()
    {
        json["name"] = serde_json::Value::String("(unsaved)".into());
    }
    let name = json["name"].as_str().unwrap_or_default().to_owned();
    // Check the object's own rules before touching the network.
    let mut alone = Config::default();
    if let Err(e) = alone.upsert_json(k, json.clone()) {
        return Ok(outcome(vec![convert::shape_error(&e, &fields, &values)]));
    }
    if let Err(errors) = alone.validate() {
        return Ok(outcome(convert::validation_errors(
            &errors,
            Some(k),
            &name,
            &fields,
            &values,
        )));
    }
    let cipher = st.store.cipher();
    let outcome = match k {
        ObjectKind::LdapSource => {
            let source = engine::config::from_json(json).map_err(fail)?;
            match engine::ldap::probe(&source, cipher).await {
                Ok(r) => {
                    ProbeOutcome::connected(true, crate::forms::probe_facts::ldap(&r), r.problems)
                }
                Err(e) => ProbeOutcome::failed(e.to_string()),
            }
        }
        ObjectKind::ScimServer => {
            let server = engine::config::from_json(json).map_err(fail)?;
            match engine::scim::probe(&server, cipher).await {
                // Reachable means authenticated too: /ResourceTypes answered.
                Ok(r) => ProbeOutcome::connected(
                    !r.resource_types.is_empty(),
                    crate::forms::probe_facts::scim(&r),
                    r.problems,
                ),
                Err(e) => ProbeOutcome::failed(e.to_string()),
            }
        }
        _ => {
            return Err(ServerFnError::new(format!(
                "{} has no connection to test",
                k.label()
            )));
        }
    };
    Ok(outcome)
}

/// Each pipe with its current realtime startpoint.
#[server]
pub async fn pipe_startpoints() -> Result<Vec<PipeStartpoint>, ServerFnError> {
    use ssr::*;
    let st = state()?;
    let config = st.store.load_config().await.map_err(fail)?;
    let startpoints = st.store.startpoints().await.map_err(fail)?;
    Ok(config
        .sync_pipes
        .iter()
        .map(|p| PipeStartpoint {
            pipe: p.name.clone(),
            source: p.source.clone(),
            changelog: config
                .get::<engine::config::LdapSource>(&p.source)
                .map(|s| match s.changelog {
                    engine::config::ChangelogFlavor::DraftGood => "cn=changelog".to_owned(),
                    engine::config::ChangelogFlavor::OpenldapAccesslog => {
                        "OpenLDAP accesslog".to_owned()
                    }
                })
                .unwrap_or_default(),
            current: startpoints.get(&p.name).map(|s| {
                format!(
                    "{}: {} (set {})",
                    s.request,
                    s.cursor,
                    s.set_at.format("%Y-%m-%d %H:%M:%S UTC")
                )
            }),
        })
        .collect())
}

/// Step 9: resolves the requested position against the pipe's changelog and stores it.
/// `position` is end | beginning | change-number | time.
#[server]
pub async fn set_startpoint(
    pipe: String,
    position: String,
    change_number: String,
    time: String,
) -> Result<StartpointOutcome, ServerFnError> {
    use engine::startpoint::StartpointRequest;
    use ssr::*;
    let st = state()?;
    let config = st.store.load_config().await.map_err(fail)?;
    let refuse = |message: String| Ok(StartpointOutcome { ok: false, message });
    let request = match position.as_str() {
        "end" => StartpointRequest::EndOfChangelog,
        "beginning" => StartpointRequest::BeginningOfChangelog,
        "change-number" => match change_number.trim().parse::<u64>() {
            Ok(n) if n > 0 => StartpointRequest::ChangeNumber { change_number: n },
            _ => {
                return refuse(format!(
                    "change number: \"{}\" is not a positive whole number",
                    change_number.trim()
                ));
            }
        },
        "time" => match engine::startpoint::parse_time(&time) {
            Some(t) => StartpointRequest::Time { time: t },
            None => {
                return refuse(format!(
                    "time: \"{}\" is not a time (use 2026-11-23T10:00:00Z or 2026-11-23 10:00, UTC)",
                    time.trim()
                ));
            }
        },
        other => {
            return refuse(format!(
                "position: \"{other}\" is not one of end, beginning, change-number, time"
            ));
        }
    };
    match engine::sync::set_startpoint(&st.store, &config, &pipe, request).await {
        Ok(sp) => Ok({
            audit(
                &st,
                "set-startpoint",
                format!("sync pipe \"{pipe}\""),
                format!("{}: {}", sp.request, sp.cursor),
            )
            .await;
            StartpointOutcome {
                ok: true,
                message: format!(
                    "Startpoint of \"{pipe}\" set: {}: {}",
                    sp.request, sp.cursor
                ),
            }
        }),
        Err(e) => refuse(e),
    }
}
