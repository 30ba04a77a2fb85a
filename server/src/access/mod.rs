//! Console access: nobody reaches a page, a server function or a live feed without a
//! session; viewers may only read; state-changing requests must come from the console's own
//! origin (CSRF). Sign-in and sign-out live in [`login`], the first admin in [`bootstrap`].

pub mod bootstrap;
mod guard;
pub mod login;
#[cfg(test)]
mod tests;
mod throttle;

pub use guard::guard;

use engine::store::Store;

pub const SESSION_COOKIE: &str = "scimsync_session";
/// How long a sign-in lasts.
pub const SESSION_HOURS: i64 = 12;

/// What the access layer needs.
#[derive(Clone)]
pub struct Access {
    pub store: Store,
    /// Adds `Secure` to the session cookie (when the console is served over HTTPS).
    pub secure_cookie: bool,
    pub throttle: throttle::SignInThrottle,
    /// The console's stylesheet URL, for the sign-in page.
    pub stylesheet: std::sync::Arc<str>,
}

/// The address a request came from (the connection's peer; behind a reverse proxy, the
/// proxy's), for the sign-in throttle.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub std::net::SocketAddr);

type Incoming<'a, L> = axum::serve::IncomingStream<'a, L>;

impl axum::extract::connect_info::Connected<Incoming<'_, tokio::net::TcpListener>> for ClientAddr {
    fn connect_info(stream: Incoming<'_, tokio::net::TcpListener>) -> Self {
        ClientAddr(*stream.remote_addr())
    }
}

impl axum::extract::connect_info::Connected<Incoming<'_, crate::tls::TlsListener>> for ClientAddr {
    fn connect_info(stream: Incoming<'_, crate::tls::TlsListener>) -> Self {
        ClientAddr(*stream.remote_addr())
    }
}

/// The session token in a request's cookies.
pub fn session_token(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}
