//! The Content-Security-Policy of every console response, in one place: only what the console
//! needs — its own scripts (and WebAssembly), styles, data from itself, no framing by anyone.
//! Pages carry the nonce of their inline hydration and resource scripts; other responses
//! (the sign-in page, files, feeds) none.

/// The policy, allowing inline scripts that carry `nonce`.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let nonce = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{nonce}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Puts the policy with this response's nonce on a server-rendered page.
#[cfg(feature = "ssr")]
pub(crate) fn protect_page() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = content_security_policy(Some(&nonce)).parse() {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pages_allow_their_nonce_and_nothing_inline_else() {
        let page = super::content_security_policy(Some("abc"));
        assert!(
            page.contains("script-src 'self' 'wasm-unsafe-eval' 'nonce-abc';"),
            "{page}"
        );
        assert!(page.ends_with("frame-ancestors 'none'"), "{page}");
        let other = super::content_security_policy(None);
        assert!(
            !other.contains("nonce") && !other.contains("unsafe-inline"),
            "{other}"
        );
    }
}
