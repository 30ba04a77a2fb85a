//! `GET /api/log?format=csv|json&pipe=&dn=&outcome=&since=`: the log of changes as a file,
//! newest first, the filters of the console's log page.

use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use engine::store::{LoggedChange, Store, SyncLogFilter};
use std::collections::HashMap;

/// Changes in one download at most.
const MOST: u32 = 100_000;

pub async fn download(store: Store, Query(params): Query<HashMap<String, String>>) -> Response {
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    let filter = match SyncLogFilter::from_text(
        "",
        param("pipe"),
        param("dn"),
        param("outcome"),
        param("since"),
        MOST,
    ) {
        Ok(filter) => filter,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    let changes = match store.logged_changes(&filter).await {
        Ok(changes) => changes,
        Err(e) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the log cannot be read: {e}\n"),
            )
                .into_response();
        }
    };
    match param("format") {
        "csv" => file("text/csv; charset=utf-8", "csv", csv(&changes)),
        "json" | "" => match serde_json::to_string_pretty(&changes) {
            Ok(text) => file("application/json", "json", text),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        },
        other => (
            StatusCode::BAD_REQUEST,
            format!("format \"{other}\" is not one (use csv or json)\n"),
        )
            .into_response(),
    }
}

fn file(content_type: &'static str, extension: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"scimsync-log.{extension}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A cell a spreadsheet takes as it is: one that would start a formula (`=`, `+`, `-`, `@`,
/// a tab or a carriage return — a SCIM service's resource id may start so) gets a leading `'`,
/// as OWASP advises for CSV injection.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// RFC 4180: a header line, fields quoted where they hold a comma, quote or line break, and
/// every field made inert for spreadsheets.
fn csv(changes: &[LoggedChange]) -> String {
    let field = |v: &str| {
        let v = inert(v);
        if v.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.into_owned()
        }
    };
    let mut out =
        String::from("at,pipe,phase,outcome,dn,endpoint,resource_id,summary,duration_ms\r\n");
    for c in changes {
        let at = c.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let duration = c.duration_ms.to_string();
        let fields = [
            at.as_str(),
            &c.pipe,
            c.phase.as_str(),
            c.outcome.as_str(),
            &c.dn,
            c.endpoint.as_deref().unwrap_or_default(),
            c.resource_id.as_deref().unwrap_or_default(),
            &c.summary,
            &duration,
        ];
        let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_cell_starts_a_formula() {
        let hostile = [
            "=HYPERLINK(\"http://evil.example\",\"x\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
        ];
        let changes: Vec<LoggedChange> = hostile
            .iter()
            .map(|id| LoggedChange {
                id: "1".into(),
                at: chrono::Utc::now(),
                pipe: "=P".into(),
                phase: engine::rejection::Phase::Realtime,
                dn: "uid=a,dc=example".into(),
                endpoint: Some("Users".into()),
                resource_id: Some((*id).into()),
                outcome: engine::report::ChangeOutcome::Created,
                summary: format!("{id} was created"),
                duration_ms: 3,
            })
            .collect();
        let text = csv(&changes);
        // Read back as RFC 4180: every cell, unquoted.
        let mut cells = Vec::new();
        let (mut cell, mut quoted, mut chars) = (String::new(), false, text.chars().peekable());
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', false) if cell.is_empty() => quoted = true,
                ('"', true) if chars.peek() == Some(&'"') => {
                    cell.push('"');
                    chars.next();
                }
                ('"', true) => quoted = false,
                (',' | '\n', false) => cells.push(std::mem::take(&mut cell)),
                ('\r', false) => {}
                (c, _) => cell.push(c),
            }
        }
        assert_eq!(cells.len(), 9 * (1 + hostile.len()), "{text}");
        for cell in &cells {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} in {text}"
            );
        }
        assert!(cells.contains(&"'=HYPERLINK(\"http://evil.example\",\"x\")".to_owned()));
        assert!(cells.contains(&"'=P".to_owned()));
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let change = LoggedChange {
            id: "1".into(),
            at: chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
            pipe: "P".into(),
            phase: engine::rejection::Phase::Realtime,
            dn: "cn=Doe\\, Jane,dc=example".into(),
            endpoint: None,
            resource_id: None,
            outcome: engine::report::ChangeOutcome::Rejected,
            summary: "rejected: \"bad\"".into(),
            duration_ms: 3,
        };
        assert_eq!(
            csv(&[change]),
            "at,pipe,phase,outcome,dn,endpoint,resource_id,summary,duration_ms\r\n\
             2026-12-04T10:00:00.000000Z,P,realtime,rejected,\"cn=Doe\\, Jane,dc=example\",,,\"rejected: \"\"bad\"\"\",3\r\n"
        );
    }
}
