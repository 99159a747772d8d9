//! The server's HTML pages (GraphiQL, the API docs) with the headers that keep them
//! safe: a Content-Security-Policy that allows only the page's own scripts and the
//! server's own assets, and no framing by any site.
//!
//! Inline scripts are allowed by their SHA-256 hash, computed once from the page
//! itself, so the policy follows the page when it changes and no other inline script
//! (an injected one, say) can run.

use axum::{
    http::{HeaderName, HeaderValue, header},
    response::{Html, IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use sha2::{Digest, Sha256};

/// An HTML page and its security headers, prepared once.
#[derive(Clone)]
pub struct HtmlPage {
    html: String,
    policy: HeaderValue,
}

impl HtmlPage {
    /// Prepares `html`, allowing exactly its inline scripts.
    pub fn new(html: String) -> Self {
        let policy = content_security_policy(&html);
        let policy = HeaderValue::from_str(&policy)
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
        Self { html, policy }
    }
}

impl IntoResponse for HtmlPage {
    fn into_response(self) -> Response {
        let headers: [(HeaderName, HeaderValue); 2] = [
            (header::CONTENT_SECURITY_POLICY, self.policy),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        ];
        (headers, Html(self.html)).into_response()
    }
}

/// The policy for `html`: the server's own origin only, plus the hashes of the
/// page's inline scripts. Styles may be inline (both pages' libraries set element
/// styles); `data:` images and fonts are the page's own. Forms may post only to the
/// server, and only on a page that has one.
fn content_security_policy(html: &str) -> String {
    let hashes: String = inline_scripts(html)
        .map(|script| format!(" 'sha256-{}'", STANDARD.encode(Sha256::digest(script))))
        .collect();
    let form_action = if html.contains("<form") {
        "'self'"
    } else {
        "'none'"
    };
    format!(
        "default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
    )
}

/// The text of each `<script>` element without a `src` attribute.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find("<script")?;
            let after_tag = &rest[start..];
            let open_end = after_tag.find('>')?;
            let attributes = &after_tag[..open_end];
            let body_and_rest = &after_tag[open_end + 1..];
            let close = body_and_rest.find("</script>")?;
            rest = &body_and_rest[close + "</script>".len()..];
            if !attributes.contains("src=") {
                return Some(&body_and_rest[..close]);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_only_inline_scripts() {
        let html =
            r#"<script src="/a.js"></script><script>alert(1)</script><script id="x"></script>"#;
        let scripts: Vec<&str> = inline_scripts(html).collect();
        assert_eq!(scripts, vec!["alert(1)", ""]);
        let policy = content_security_policy(html);
        let expected = STANDARD.encode(Sha256::digest("alert(1)"));
        assert!(policy.contains(&format!("'sha256-{expected}'")), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"));
    }
}
