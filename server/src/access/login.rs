//! Signing in and out: a plain HTML form (it must work before any session exists), the
//! session cookie, and audit entries for both.

use super::{Access, SESSION_COOKIE, SESSION_HOURS, session_token};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct NextPage {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Where a sign-in goes next: only a path on this console, else `/` — no open redirect. It
/// must start with `/`, hold no control character, space or backslash (browsers drop tabs and
/// newlines and read `\\` as `/`, so `/<TAB>/host` becomes `//host`), and, resolved against the
/// console as a browser would, stay on it. What is returned is that resolved path (with its
/// query and fragment), percent-encoded: always a valid `Location`.
pub(super) fn local_path(next: Option<&str>) -> String {
    let console = url::Url::parse("http://console.invalid/").expect("a valid URL");
    let Some(path) = next else {
        return "/".to_owned();
    };
    let plain = path
        .chars()
        .all(|c| !c.is_control() && !c.is_whitespace() && c != '\\');
    match console.join(path) {
        Ok(to) if plain && path.starts_with('/') && to.origin() == console.origin() => {
            to[url::Position::BeforePath..].to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(stylesheet: &str, next: &str, username: &str, error: Option<&str>) -> Html<String> {
    let error = error
        .map(|e| {
            format!(
                r#"<div class="errors" role="alert"><p>{}</p></div>"#,
                escape(e)
            )
        })
        .unwrap_or_default();
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/>
<link rel="icon" href="data:,"/><link rel="stylesheet" href="{stylesheet}"/><title>Sign in · scimsync console</title></head>
<body><header class="top"><span class="brand">scimsync</span><span class="tagline">LDAP → SCIM 2.0 synchronization</span></header>
<main class="login"><h1>Sign in</h1>{error}
<form method="post" action="/login" class="form">
<input type="hidden" name="next" value="{next}"/>
<div class="field"><label for="username">Username</label><input id="username" name="username" autocomplete="username" value="{username}" required autofocus/></div>
<div class="field"><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required/></div>
<div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form></main></body></html>"#,
        next = escape(next),
        username = escape(username),
        stylesheet = escape(stylesheet),
    ))
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub async fn show(State(access): State<Access>, Query(q): Query<NextPage>) -> Response {
    let next = local_path(q.next.as_deref());
    no_store(page(&access.stylesheet, &next, "", None).into_response())
}

pub async fn sign_in(
    State(access): State<Access>,
    client: Option<Extension<ConnectInfo<super::ClientAddr>>>,
    Form(form): Form<Credentials>,
) -> Response {
    let next = local_path(Some(&form.next));
    let username = form.username.trim();
    let address = client.map(|Extension(ConnectInfo(super::ClientAddr(a)))| a.ip());
    let now = std::time::Instant::now();
    if let Some(wait) = access.throttle.locked_for(username, address, now) {
        tracing::warn!("console sign-in for \"{username}\" refused: too many failed tries");
        let message = format!(
            "Too many failed sign-ins for this username: try again in {} s.",
            wait.as_secs().max(1)
        );
        let body = page(&access.stylesheet, &next, username, Some(&message));
        return no_store((StatusCode::TOO_MANY_REQUESTS, body).into_response());
    }
    let user = match access
        .store
        .check_console_login(form.username.trim(), &form.password)
        .await
    {
        Ok(user) => user,
        // Not a failed sign-in: nothing was checked, so nothing counts towards a lockout.
        Err(e) => {
            tracing::error!("checking a console sign-in: {e}");
            let body = page(
                &access.stylesheet,
                &next,
                username,
                Some(
                    "The user store cannot be reached: your password was not checked. Try again shortly.",
                ),
            );
            return no_store((StatusCode::SERVICE_UNAVAILABLE, body).into_response());
        }
    };
    let Some(user) = user else {
        access.throttle.failed(username, address, now);
        tracing::warn!("failed console sign-in for \"{}\"", form.username.trim());
        let body = page(
            &access.stylesheet,
            &next,
            form.username.trim(),
            Some("Wrong username or password."),
        );
        return no_store((StatusCode::UNAUTHORIZED, body).into_response());
    };
    let token = match access
        .store
        .open_console_session(&user.username, chrono::Duration::hours(SESSION_HOURS))
        .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("opening a console session: {e}");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the session store cannot be written",
            )
                .into_response();
        }
    };
    access.throttle.succeeded(username, address);
    audit(&access, &user.username, "sign-in").await;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_HOURS * 3600,
        if access.secure_cookie { "; Secure" } else { "" }
    );
    let mut response = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    no_store(response)
}

pub async fn sign_out(State(access): State<Access>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        if let Ok(Some(user)) = access.store.console_session(&token).await {
            audit(&access, &user.username, "sign-out").await;
        }
        if let Err(e) = access.store.close_console_session(&token).await {
            tracing::error!("closing a console session: {e}");
        }
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("scimsync_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    no_store(response)
}

async fn audit(access: &Access, username: &str, action: &str) {
    if let Err(e) = access
        .store
        .record_audit(&format!("console:{username}"), action, "console", "")
        .await
    {
        tracing::error!("writing the audit log: {e}");
    }
}
