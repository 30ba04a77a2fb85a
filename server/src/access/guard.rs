//! The middleware in front of every route.

use super::{Access, session_token};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use engine::store::Role;

/// Paths anyone may fetch: the sign-in page and the static assets it needs.
fn is_public(path: &str) -> bool {
    path == "/login" || path.starts_with("/pkg/") || path == "/favicon.ico"
}

/// Whether a state-changing request comes from a page of this console: its `Origin` (or,
/// failing that, its `Referer`) must name the host the request was sent to.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let from = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|h| h.to_str().ok());
    let Some(from) = from else {
        return false;
    };
    let authority = from
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(""));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
}

/// The server function a request calls (`/api/<name><hash>` → `name`), if any.
pub(super) fn server_fn_name(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/")?;
    Some(rest.trim_end_matches(|c: char| c.is_ascii_digit()))
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        message.to_owned(),
    )
        .into_response()
}

/// The largest request body the console accepts (forms and server function arguments are
/// small; a configuration import goes through the CLI).
const MAX_BODY_BYTES: usize = 1 << 20;
const TOO_LARGE: &str = "refused: the request body is too large (at most 1 MiB)";

pub async fn guard(State(access): State<Access>, request: Request<Body>, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
    }
    // A body without a declared length is cut off at the same size.
    let (parts, body) = request.into_parts();
    let request = Request::from_parts(
        parts,
        Body::new(http_body_util::Limited::new(body, MAX_BODY_BYTES)),
    );
    let is_server_fn = request.uri().path().starts_with("/api/");
    let response = admit(access, request, next).await;
    if is_server_fn && response.status() == StatusCode::INTERNAL_SERVER_ERROR {
        return client_errors_as_4xx(response).await;
    }
    response
}

/// Leptos answers arguments it cannot decode with 500 `Deserialization|…` / `Args|…`; that
/// is the client's fault, so it becomes 400 with the reason.
async fn client_errors_as_4xx(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the answer could not be read",
        );
    };
    let text = String::from_utf8_lossy(&bytes);
    if text.contains("length limit exceeded") {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
    }
    for kind in ["Deserialization|", "Args|", "MissingArg|"] {
        if let Some(reason) = text.strip_prefix(kind) {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("malformed request: {reason}"),
            );
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn admit(access: Access, mut request: Request<Body>, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    if !safe && !same_origin(request.headers()) {
        return refuse(
            StatusCode::FORBIDDEN,
            "refused: a change must come from a page of this console (Origin does not match)",
        );
    }
    if is_public(&path) {
        return next.run(request).await;
    }
    let user = match session_token(request.headers()) {
        Some(token) => match access.store.console_session(&token).await {
            Ok(user) => user,
            Err(e) => {
                tracing::error!("reading the session: {e}");
                return refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!("the console cannot check your session: {e}"),
                );
            }
        },
        None => None,
    };
    let Some(user) = user else {
        // A person gets the sign-in page; a program gets a status.
        if safe && !path.starts_with("/api/") {
            let next = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".into());
            return Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response();
        }
        return refuse(StatusCode::UNAUTHORIZED, "sign in first");
    };
    if user.role == Role::Viewer && !safe && path != "/logout" {
        let reads = server_fn_name(&path).is_some_and(|n| app::api::VIEWER_SERVER_FNS.contains(&n));
        if !reads {
            return refuse(
                StatusCode::FORBIDDEN,
                "refused: viewers can watch but not change anything",
            );
        }
    }
    request.extensions_mut().insert(user);
    next.run(request).await
}

pub(super) fn urlencode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_must_match_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:3000".parse().unwrap());
        assert!(!same_origin(&h), "no Origin, no Referer");
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, "http://127.0.0.1:3000".parse().unwrap());
        assert!(same_origin(&h));
        h.remove(header::ORIGIN);
        h.insert(
            header::REFERER,
            "http://127.0.0.1:3000/step/1".parse().unwrap(),
        );
        assert!(same_origin(&h));
        h.insert(
            header::REFERER,
            "http://127.0.0.1:3000.evil.example/".parse().unwrap(),
        );
        assert!(!same_origin(&h));
    }

    #[test]
    fn server_fn_names_lose_their_hash() {
        assert_eq!(
            server_fn_name("/api/setup_status1234"),
            Some("setup_status")
        );
        assert_eq!(server_fn_name("/step/1"), None);
    }
}
