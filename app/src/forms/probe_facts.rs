//! "Test connection" reports as label/value rows for the console.

use engine::ldap::LdapProbeReport;
use engine::scim::{BulkLimits, ScimProbeReport};

fn row(label: &str, value: impl Into<String>) -> (String, String) {
    (label.to_owned(), value.into())
}

fn supported(yes: bool) -> String {
    if yes { "supported" } else { "not supported" }.to_owned()
}

pub fn ldap(r: &LdapProbeReport) -> Vec<(String, String)> {
    let mut facts = vec![
        row("Server", r.server.clone()),
        row("Bound as", r.bound_as.clone()),
    ];
    facts.extend(r.skipped.iter().map(|s| row("Skipped", s.clone())));
    facts.push(row(
        "Vendor",
        r.vendor.clone().unwrap_or_else(|| "not advertised".into()),
    ));
    facts.push(row("Naming contexts", r.naming_contexts.join(", ")));
    facts.push(row("Paged results", supported(r.paged_results)));
    for b in &r.base_dns {
        facts.push(row(
            "Base DN",
            format!("{} — {}", b.dn, if b.found { "found" } else { "NOT FOUND" }),
        ));
    }
    facts.push(row(
        "Changelog",
        r.changelog
            .as_ref()
            .map_or("not found".into(), ToString::to_string),
    ));
    if let Some(said) = &r.entry_ids {
        facts.push(row("Entries known by", said.clone()));
    }
    facts
}

/// Whether destinations will send Bulk requests, and within which limits.
fn bulk(r: &ScimProbeReport) -> String {
    if !r.bulk {
        return "not supported: destinations send a request per write".into();
    }
    let operations = r.bulk_max_operations.unwrap_or(0);
    if !r.bulk_usable {
        return format!("supported, but at most {operations} operation per request: not used");
    }
    let payload = r.bulk_max_payload_size.map_or(
        format!("{} bytes (not advertised)", BulkLimits::DEFAULT_PAYLOAD),
        |b| format!("{b} bytes"),
    );
    format!(
        "supported (max {operations} operations, {payload} per request): used by destinations unless their \"Bulk requests\" is off"
    )
}

pub fn scim(r: &ScimProbeReport) -> Vec<(String, String)> {
    let with_limit = |yes: bool, what: &str, limit: Option<u64>| {
        if yes {
            format!("supported (max {} {what})", limit.unwrap_or(0))
        } else {
            supported(false)
        }
    };
    let mut facts = vec![
        row("Service", r.base_url.clone()),
        row("PATCH", supported(r.patch)),
        row("Bulk", bulk(r)),
        row(
            "Filter",
            with_limit(r.filter, "results", r.filter_max_results),
        ),
        row("Sort", supported(r.sort)),
        row("ETag", supported(r.etag)),
        row("Change password", supported(r.change_password)),
    ];
    if !r.authentication_schemes.is_empty() {
        facts.push(row(
            "Authentication schemes",
            r.authentication_schemes.join(", "),
        ));
    }
    for t in &r.resource_types {
        facts.push(row(
            "Resource type",
            format!("{} at {} ({})", t.name, t.endpoint, t.schema),
        ));
    }
    facts
}
