//! The status page: `/` as HTML for a person opening the server in a browser (an `Accept`
//! header preferring `text/html`; everything else gets the JSON status, see `app/status.rs`).
//!
//! It shows the name and version, whether a key is required, the allowed browser origins, the
//! URL to paste into Workspace, each widget (name, type, endpoint, last status and when) and
//! the current problems. Invariants: every text printed is HTML-escaped ([`escape`]; widget
//! names and problems come from the user's files), and the page is sent with a
//! `Content-Security-Policy` allowing nothing to load or run (it has no script, no style sheet
//! and no image), `no-store` caching (the URL may carry the key) and no referrer.

use std::fmt::Write as _;
use std::time::SystemTime;

use crate::http::{Body, Response};
use crate::validate::{Problem, Severity};

/// Nothing may load, run, be framed or be submitted: the page is plain HTML.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What the page shows.
pub struct Status<'a> {
    /// The URL to paste into Workspace.
    pub url: &'a str,
    pub auth_required: bool,
    pub origins: &'a [String],
    pub widgets: Vec<WidgetRow>,
    pub problems: &'a [Problem],
}

/// One served widget, with the last answer its endpoint gave.
pub struct WidgetRow {
    pub name: String,
    pub kind: String,
    pub endpoint: String,
    pub last: Option<(u16, SystemTime)>,
}

/// Whether an `Accept` header prefers HTML to JSON: `text/html` with a higher quality than
/// `application/json` (absent: 0). No header, `*/*` and ties get JSON, the API's answer.
pub fn wants_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    let quality = |wanted: &str| {
        accept
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let media_type = parts.next()?.trim();
                if !media_type.eq_ignore_ascii_case(wanted) {
                    return None;
                }
                let q = parts
                    .filter_map(|param| param.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some(q)
            })
            .fold(0.0_f32, f32::max)
    };
    let html = quality("text/html");
    html > 0.0 && html > quality("application/json")
}

/// The page as a 200 with its security headers.
pub fn render(status: &Status) -> Response {
    let mut page = String::with_capacity(4096);
    let name = env!("CARGO_PKG_NAME");
    let version = env!("CARGO_PKG_VERSION");
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{name} {version}</title></head><body>\n\
         <h1 id=\"name\">{name} {version}</h1>\n<dl>\
         <dt>Workspace URL</dt><dd id=\"url\"><code>{url}</code> \
         (Add data &gt; Custom backend)</dd>\
         <dt>Key</dt><dd id=\"key\">{key}</dd>\
         <dt>Browser origins allowed</dt><dd id=\"origins\">{origins}</dd></dl>\n",
        url = escape(status.url),
        key = match status.auth_required {
            true => "required",
            false => "not required",
        },
        origins = escape(&status.origins.join(", ")),
    );
    let _ = write!(
        page,
        "<h2>Widgets ({})</h2>\n<table id=\"widgets\" border=\"1\" cellpadding=\"4\">\
         <tr><th>Name</th><th>Type</th><th>Endpoint</th><th>Last status</th></tr>\n",
        status.widgets.len()
    );
    for widget in &status.widgets {
        let last = match widget.last {
            Some((code, at)) => format!("{code} at {}", crate::log::rfc3339(at)),
            None => "not requested yet".to_string(),
        };
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            escape(&widget.name),
            escape(&widget.kind),
            escape(&widget.endpoint),
            escape(&last)
        );
    }
    page.push_str("</table>\n");
    let _ = writeln!(page, "<h2>Problems ({})</h2>", status.problems.len());
    match status.problems {
        [] => page.push_str("<p id=\"problems\">None.</p>\n"),
        problems => {
            page.push_str("<ul id=\"problems\">\n");
            for problem in problems {
                let severity = match problem.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                let _ = writeln!(page, "<li>{severity}: {}</li>", escape(&problem.line));
            }
            page.push_str("</ul>\n");
        }
    }
    page.push_str("</body></html>\n");
    Response::new(
        200,
        "text/html; charset=utf-8",
        Body::Owned(page.into_bytes()),
    )
    .with_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    .with_header("X-Content-Type-Options", "nosniff")
    .with_header("Cache-Control", "no-store")
    .with_header("Referrer-Policy", "no-referrer")
}

/// `text` with `&`, `<`, `>`, `"` and `'` written as character references: safe in element
/// content and in quoted attribute values alike.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn browsers_get_html_and_everything_else_json() {
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                        image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
        assert!(wants_html(Some(chromium)));
        assert!(wants_html(Some("TEXT/HTML")));
        assert!(wants_html(Some("application/json;q=0.5, text/html")));
        for json in [
            None,
            Some(""),
            Some("*/*"),
            Some("application/json"),
            Some("application/json, text/plain, */*"),
            Some("text/html, application/json"),
            Some("text/html;q=0"),
            Some("text/*"),
            Some("text/html;q=0.4, application/json;q=0.5"),
        ] {
            assert!(!wants_html(json), "{json:?}");
        }
    }

    #[test]
    fn everything_printed_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        let hostile = "<img src=x onerror=alert(1)>";
        let problems = [Problem::error(format!("w: {hostile}"))];
        let origins = [format!("https://{hostile}")];
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_709_251_200);
        let response = render(&Status {
            url: "http://127.0.0.1:7779\"><script>",
            auth_required: true,
            origins: &origins,
            widgets: vec![WidgetRow {
                name: hostile.into(),
                kind: "table".into(),
                endpoint: "</td>".into(),
                last: Some((200, at)),
            }],
            problems: &problems,
        });
        let page = String::from_utf8(response.body.as_ref().to_vec()).unwrap();
        assert!(
            !page.contains("<img") && !page.contains("<script"),
            "{page}"
        );
        assert!(
            page.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{page}"
        );
        assert!(page.contains("200 at 2024-03-01T00:00:00.000Z"), "{page}");
        assert!(page.contains("<dd id=\"key\">required</dd>"), "{page}");
        assert!(page.contains("<li>error: w: &lt;img"), "{page}");
        assert_eq!(
            response.header("Content-Security-Policy"),
            Some(CONTENT_SECURITY_POLICY)
        );
        assert_eq!(
            response.header("Content-Type"),
            Some("text/html; charset=utf-8")
        );
    }
}
