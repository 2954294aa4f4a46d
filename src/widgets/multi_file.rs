//! multi_file_viewer: POST `{"<fileSelector paramName>": ["a.pdf", ...]}` (an array, or one
//! comma-separated string) answers one entry per requested file, in order: `{content (base64),
//! data_format: {data_type: <extension>, filename}}`, or `{error_type: "not_found", content}`
//! for a name that is not a file of the widget's folder. The fileSelector's options endpoint
//! lists the folder (see `options.rs`).

use serde_json::{Value, json};

use crate::base64;
use crate::files::Files;
use crate::http::Response;
use crate::paths::is_safe_segment;
use crate::widgets::{Call, json_body};

pub fn serve(call: &Call) -> Response {
    let body = match json_body(call.request) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let (Some(param), Some(folder)) = (&call.widget.file_param, &call.widget.folder) else {
        return Response::error(500, "a multi_file_viewer needs a fileSelector param");
    };
    let names: Vec<String> = match body.get(param) {
        Some(Value::Array(items)) => {
            match items.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
                Some(names) => names.into_iter().map(str::to_string).collect(),
                None => return Response::error(400, &format!("'{param}' must hold file names")),
            }
        }
        Some(Value::String(joined)) => joined
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .collect(),
        None | Some(Value::Null) => Vec::new(),
        _ => {
            return Response::error(400, &format!("'{param}' must be an array of file names"));
        }
    };
    let entries: Vec<Value> = names
        .iter()
        .map(|name| entry(call.files, folder, name))
        .collect();
    Response::json(200, &entries)
}

fn entry(files: &Files, folder: &str, name: &str) -> Value {
    let relative = format!("{folder}/{name}");
    let bytes = is_safe_segment(name)
        .then(|| files.bytes(&relative).ok())
        .flatten();
    match bytes {
        Some(bytes) => {
            let extension = name
                .rsplit_once('.')
                .map_or("", |(_, e)| e)
                .to_ascii_lowercase();
            json!({
                "content": base64::encode(&bytes),
                "data_format": {"data_type": extension, "filename": name},
            })
        }
        None => json!({
            "error_type": "not_found",
            "content": format!("'{name}' is not a file in {}", files.dir.display(folder)),
        }),
    }
}
