//! pdf: a PDF file (`backend.file`, default `<endpoint>.pdf`) in either form Workspace takes:
//! `mode: "base64"` sends `{data_format, content}`; `mode: "url"` sends `{data_format, url}`
//! with a link to the raw-file route, `/files/<path under data/>` on an allowed host name, which
//! [`raw_file`] answers with the file's media type and an inline `Content-Disposition`.

use serde_json::json;

use crate::base64;
use crate::files::{Files, media_type};
use crate::http::{Body, Request, Response, percent_encode};
use crate::manifest::{FILES_PREFIX, PdfMode, Source};
use crate::widgets::Call;

pub fn serve(call: &Call, source: &Source, mode: PdfMode) -> Response {
    let relative = match call.locate(source) {
        Ok(relative) => relative,
        Err(err) => return err.into(),
    };
    let data_format = json!({"data_type": "pdf", "filename": file_name(&relative)});
    match mode {
        PdfMode::Base64 => match call.files.bytes(&relative) {
            Ok(bytes) => Response::json(
                200,
                &json!({"data_format": data_format, "content": base64::encode(&bytes)}),
            ),
            Err(err) => err.into(),
        },
        PdfMode::Url => {
            let url = file_url(call, &relative);
            let answer = Response::json(200, &json!({"data_format": data_format, "url": url}));
            // A link holding the requester's key is theirs alone: no cache may keep it.
            match call.auth.url_credential(call.key) {
                Some(_) => answer.with_header("Cache-Control", "no-store"),
                None => answer,
            }
        }
    }
}

fn file_name(relative: &str) -> &str {
    relative.rsplit('/').next().unwrap_or(relative)
}

/// The absolute URL of `relative` on the raw-file route, built from the request's `Host` (and
/// `X-Forwarded-Proto` behind a TLS proxy). That is always a name the server answers to:
/// `app/` refuses any other with 421 before a handler runs (`hosts.rs`), so a key-bearing
/// link never points elsewhere. The browser fetches it without the headers Workspace adds, so
/// when a key is required it travels in the URL's query: the key this request presented (with
/// several keys, the requester's own, never another's).
fn file_url(call: &Call, relative: &str) -> String {
    let request: &Request = call.request;
    let host = request.header("host").unwrap_or("127.0.0.1");
    let scheme = match request.header("x-forwarded-proto") {
        Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    let path: Vec<String> = relative.split('/').map(percent_encode).collect();
    let mut url = format!("{scheme}://{host}/{FILES_PREFIX}/{}", path.join("/"));
    if let Some((name, key)) = call.auth.url_credential(call.key) {
        url.push_str(&format!(
            "?{}={}",
            percent_encode(name),
            percent_encode(key)
        ));
    }
    url
}

/// The raw-file route (`router::Route::File`, `/files/<relative>`): the file as it is, shown
/// inline.
pub fn raw_file(files: &Files, relative: &str) -> Response {
    match files.bytes(relative) {
        Ok(bytes) => Response::new(200, media_type(relative), Body::Shared(bytes)).with_header(
            "Content-Disposition",
            format!(
                "inline; filename*=UTF-8''{}",
                percent_encode(file_name(relative))
            ),
        ),
        Err(err) => err.into(),
    }
}
