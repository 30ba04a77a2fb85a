//! One-line facts about each object for the lists on the step pages.

use engine::config::{ChangelogFlavor, Config, MappingSyntax, ObjectKind, ScimAuth};

pub fn facts(config: &Config, kind: ObjectKind, name: &str) -> Vec<String> {
    use engine::config as c;
    match kind {
        ObjectKind::LdapSource => config.get::<c::LdapSource>(name).map(|s| {
            vec![
                s.servers
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                format!("base DNs: {}", s.base_dns.join("; ")),
                match s.changelog {
                    ChangelogFlavor::DraftGood => "cn=changelog".to_owned(),
                    ChangelogFlavor::OpenldapAccesslog => {
                        format!("accesslog {}", s.accesslog_base_dn)
                    }
                },
            ]
        }),
        ObjectKind::ScimServer => config.get::<c::ScimServer>(name).map(|s| {
            let auth = match &s.auth {
                ScimAuth::None => "no authorization",
                ScimAuth::Basic { .. } => "HTTP Basic",
                ScimAuth::BearerToken { .. } => "bearer token",
                ScimAuth::Oauth2ClientCredentials { .. } => "OAuth 2.0 client credentials",
            };
            vec![s.base_url.clone(), auth.to_owned()]
        }),
        ObjectKind::AttributeMapping => config.get::<c::AttributeMapping>(name).map(|m| {
            let from = match &m.syntax {
                MappingSyntax::ComposedComplex {
                    sub_attribute_mappings,
                } => format!("[{}]", sub_attribute_mappings.join(", ")),
                MappingSyntax::Reference {
                    ldap_attribute,
                    endpoint_mappings,
                    ..
                } => format!("{ldap_attribute} (DNs of {})", endpoint_mappings.join(", ")),
                other => other.ldap_attribute().unwrap_or_default().to_owned(),
            };
            vec![format!(
                "{}: {from} → {}",
                m.syntax.type_name(),
                m.scim_attribute_name
            )]
        }),
        ObjectKind::EndpointMapping => config.get::<c::EndpointMapping>(name).map(|e| {
            vec![
                format!("/{}", e.endpoint_path),
                format!("{} attribute mappings", e.attribute_mappings.len()),
                format!("search by {}", e.search_attribute_mappings.join(" and ")),
            ]
        }),
        ObjectKind::ScimDestination => config.get::<c::ScimDestination>(name).map(|d| {
            vec![
                format!("server {}", d.server),
                format!("endpoints {}", d.endpoint_mappings.join(", ")),
                format!("{:?} / {:?}", d.update_method, d.query_method).to_uppercase(),
            ]
        }),
        ObjectKind::SyncPipe => config.get::<c::SyncPipe>(name).map(|p| {
            vec![
                format!("{} → {}", p.source, p.destination),
                format!("{} workers", p.worker_count),
                p.max_ops_per_second
                    .map_or("no rate limit".into(), |r| format!("≤ {r} ops/s")),
            ]
        }),
        ObjectKind::SyncClass => config.get::<c::SyncClass>(name).map(|k| {
            let mut f = vec![
                format!("pipe {}", k.pipe),
                format!("order {}", k.evaluation_order),
            ];
            if let Some(filter) = &k.include_filter {
                f.push(filter.clone());
            }
            f.push(match (&k.endpoint_mapping, k.synchronizes_anything()) {
                (Some(e), true) => format!("→ {e}"),
                _ => "excluded from sync".into(),
            });
            f
        }),
    }
    .unwrap_or_default()
}
