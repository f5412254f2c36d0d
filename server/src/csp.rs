//! Content-Security-Policy, the second wall behind escaping: every response says that scripts
//! run only from our own files or from an inline `<script>` carrying this response's nonce, a
//! fresh random value the page's hydration scripts are given (Leptos writes it on the scripts it
//! emits). A `<script>` smuggled into a page by a stored name has no nonce, so it never runs.

use axum::{extract::Request, middleware::Next, response::Response};
use http::{HeaderValue, header};
use leptos::nonce::Nonce;

/// Gives the request a nonce (read by [`page_nonce`] while the page renders) and sends the policy
/// that names it.
pub async fn policy(mut request: Request, next: Next) -> Response {
    let nonce = Nonce::new();
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    // A nonce is URL-safe base64, so the header value is always valid.
    if let Ok(value) = HeaderValue::from_str(&header_value(&nonce)) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// The nonce [`policy`] gave this request, to provide to the page's Leptos context.
pub fn page_nonce(parts: &http::request::Parts) -> Option<Nonce> {
    parts.extensions.get::<Nonce>().cloned()
}

fn header_value(nonce: &Nonce) -> String {
    // 'wasm-unsafe-eval' lets the page compile its WASM, nothing else. Style attributes (a logo's
    // colour, a progress bar's width) are the only inline styles. No form-action: Authorize is a
    // form whose answer redirects to the OAuth provider, wherever that is. `cargo leptos watch`
    // reloads pages over a WebSocket to its own port.
    static RELOAD: std::sync::LazyLock<bool> =
        std::sync::LazyLock::new(|| std::env::var_os("LEPTOS_WATCH").is_some());
    let reload = if *RELOAD { " ws:" } else { "" };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'{reload}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
}
