//! The security headers every response of `scimsync serve` carries: the console's
//! Content-Security-Policy (pages set their own, with their nonce; see `app::security`), and
//! no framing, no content sniffing, no referrer beyond the console.

use axum::http::{HeaderValue, header};
use axum::response::Response;

pub async fn add(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(policy) = app::security::content_security_policy(None).parse()
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}
