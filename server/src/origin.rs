//! Cross-site request forgery defence: a state-changing request authenticated by the session
//! cookie must come from our own origin. Browsers send `Origin` on every such request; where they
//! omit it, `Sec-Fetch-Site: same-origin` is accepted. This layer wraps only the console's routes;
//! the routes that authenticate by bearer token alone (`/scim/v2`, `/api/v1`) sit outside it, so
//! a stray `Authorization` header exempts nothing here: a token is not an ambient credential, but
//! a cookie route must not be opened by merely claiming one.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderMap, StatusCode, Uri, header};

#[derive(Clone, Debug)]
pub struct OriginPolicy {
    /// `scheme://host[:port]` of the configured public URL; `None`: the request's own Host.
    public_origin: Option<String>,
}

impl OriginPolicy {
    pub fn new(public_url: Option<&str>) -> Result<Self, String> {
        let public_origin = public_url
            .map(|url| {
                let uri: Uri = url
                    .parse()
                    .map_err(|e| format!("public URL {url:?}: {e}"))?;
                match (uri.scheme_str(), uri.authority()) {
                    (Some(scheme @ ("http" | "https")), Some(authority)) => {
                        Ok(format!("{scheme}://{authority}").to_ascii_lowercase())
                    }
                    _ => Err(format!(
                        "public URL {url:?}: expected http(s)://host[:port]"
                    )),
                }
            })
            .transpose()?;
        Ok(OriginPolicy { public_origin })
    }

    /// Whether a request with these headers may change state.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &http::HeaderValue| v.to_str().ok())
        };
        match text(header::ORIGIN) {
            Some(origin) => {
                let origin = origin.to_ascii_lowercase();
                match &self.public_origin {
                    Some(public) => origin == *public,
                    None => origin
                        .parse::<Uri>()
                        .ok()
                        .and_then(|uri| Some(uri.authority()?.as_str().to_owned()))
                        .zip(text(header::HOST))
                        .is_some_and(|(origin_host, host)| origin_host.eq_ignore_ascii_case(host)),
                }
            }
            None => text(http::HeaderName::from_static("sec-fetch-site")) == Some("same-origin"),
        }
    }
}

pub async fn check(State(policy): State<OriginPolicy>, request: Request, next: Next) -> Response {
    if request.method().is_safe() || policy.allows(request.headers()) {
        return next.run(request).await;
    }
    tracing::warn!(
        method = %request.method(),
        path = request.uri().path(),
        origin = ?request.headers().get(header::ORIGIN),
        "cross-origin request refused"
    );
    (
        StatusCode::FORBIDDEN,
        "Cross-origin request refused: this request did not come from the Scimitar console.",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn same_host_origin_is_allowed_and_others_refused() {
        let policy = OriginPolicy::new(None).unwrap();
        assert!(policy.allows(&headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!policy.allows(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!policy.allows(&headers(&[("origin", "null"), ("host", "127.0.0.1:3000")])));
        assert!(
            !policy.allows(&headers(&[("host", "127.0.0.1:3000")])),
            "no origin, no fetch metadata"
        );
        assert!(policy.allows(&headers(&[
            ("sec-fetch-site", "same-origin"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!policy.allows(&headers(&[
            ("sec-fetch-site", "cross-site"),
            ("host", "127.0.0.1:3000")
        ])));
    }

    #[test]
    fn public_url_fixes_the_origin_and_a_bearer_header_exempts_nothing() {
        let policy = OriginPolicy::new(Some("https://Scimitar.Contoso.com/")).unwrap();
        assert!(policy.allows(&headers(&[
            ("origin", "https://scimitar.contoso.com"),
            ("host", "internal:3000")
        ])));
        assert!(!policy.allows(&headers(&[
            ("origin", "http://scimitar.contoso.com"),
            ("host", "internal:3000")
        ])));
        assert!(!policy.allows(&headers(&[
            ("authorization", "Bearer abc"),
            ("origin", "http://evil.example")
        ])));
        assert!(OriginPolicy::new(Some("scimitar.contoso.com")).is_err());
    }
}
