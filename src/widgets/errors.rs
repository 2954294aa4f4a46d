//! The edge between storage and HTTP: the one place where a [`FileError`] (and a filter's
//! [`PlanError`]) becomes a status, a `{"detail"}` and headers.
//!
//! Storage says what went wrong; this module alone decides what the client is told. The detail
//! is the error's text, which names the file as shown (`data/...`) or the remote URL.

use std::fmt::Display;

use crate::error::FileError;
use crate::filter::PlanError;
use crate::http::Response;

/// How long a client waits before asking again for a file that was changing.
const RETRY_AFTER_SECONDS: &str = "1";

impl From<FileError> for Response {
    fn from(err: FileError) -> Response {
        let status = match &err {
            FileError::NotFound { .. }
            | FileError::FolderNotFound { .. }
            | FileError::NoDataFile { .. }
            | FileError::Unreadable { .. } => 404,
            FileError::NotAFileName { .. } => 400,
            // Workspace's convention for a required parameter left out.
            FileError::MissingParameter { .. } => 422,
            FileError::Template { .. } | FileError::Parse { .. } => 500,
            FileError::Upstream { .. } => 502,
            FileError::Changing { .. } => 503,
        };
        let response = Response::error(status, &err.to_string());
        match err {
            FileError::Changing { .. } => response.with_header("Retry-After", RETRY_AFTER_SECONDS),
            _ => response,
        }
    }
}

/// A filter refused: 500 when the widget or its data is at fault (a rule names a column the
/// data lacks), 400 when the request asks for more than the limits allow. `context` (the
/// widget's filters, a file) opens the detail.
pub fn refused_filter(context: impl Display, err: &PlanError) -> Response {
    let status = match err {
        PlanError::Widget(_) => 500,
        PlanError::TooLarge(_) => 400,
    };
    Response::error(status, &format!("{context}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Location;
    use crate::remote::FetchError;

    fn answer(err: FileError) -> (u16, String, Option<String>) {
        let response = Response::from(err);
        let body: serde_json::Value = serde_json::from_slice(response.body.as_ref()).unwrap();
        let retry = response.header("retry-after").map(str::to_string);
        (
            response.status,
            body["detail"].as_str().unwrap().to_string(),
            retry,
        )
    }

    #[test]
    fn each_file_error_has_its_status_and_detail() {
        let (file, why) = ("data/p.csv".to_string(), "No such file".to_string());
        let cases = [
            (
                FileError::NotFound { file: file.clone() },
                404,
                "not found: data/p.csv",
            ),
            (
                FileError::FolderNotFound {
                    folder: "data/notes".into(),
                },
                404,
                "not found: folder data/notes",
            ),
            (
                FileError::NoDataFile {
                    widget: "w".into(),
                    tried: vec!["data/w.csv".into(), "data/w.json".into()],
                },
                404,
                "widget 'w' has no data file: looked for data/w.csv and data/w.json",
            ),
            (
                FileError::Unreadable {
                    file: file.clone(),
                    why: why.clone(),
                },
                404,
                "data/p.csv: No such file",
            ),
            (
                FileError::NotAFileName {
                    param: "t".into(),
                    value: "..".into(),
                    in_url: false,
                },
                400,
                "parameter 't': '..' is not a file name",
            ),
            (
                FileError::NotAFileName {
                    param: "t".into(),
                    value: "..".into(),
                    in_url: true,
                },
                400,
                "parameter 't': '..' is not a path segment",
            ),
            (
                FileError::MissingParameter { param: "t".into() },
                422,
                "missing parameter 't': the file name is built from it",
            ),
            (
                FileError::Template {
                    why: "'{a': unclosed".into(),
                },
                500,
                "'{a': unclosed",
            ),
            (
                FileError::Parse {
                    file: file.clone(),
                    at: Location::Line(3),
                    message: "3 fields, the header has 2".into(),
                },
                500,
                "data/p.csv: line 3: 3 fields, the header has 2",
            ),
            (
                FileError::Upstream {
                    url: "http://127.0.0.1:9/x.csv".into(),
                    why: FetchError::TooLarge { limit: 10 },
                },
                502,
                "http://127.0.0.1:9/x.csv: upstream answer is larger than 10 bytes",
            ),
            (
                FileError::Changing { file, why },
                503,
                "data/p.csv: No such file",
            ),
        ];
        for (err, status, detail) in cases {
            let changing = matches!(err, FileError::Changing { .. });
            let (got_status, got_detail, retry) = answer(err);
            assert_eq!((got_status, got_detail.as_str()), (status, detail));
            assert_eq!(retry.as_deref(), changing.then_some("1"), "{detail}");
        }
    }

    #[test]
    fn a_filter_is_refused_for_the_widget_or_the_request() {
        let widget = refused_filter("w: filters", &PlanError::Widget("no column 'x'".into()));
        assert_eq!(widget.status, 500);
        let request = refused_filter("data/p.csv", &PlanError::TooLarge("too many".into()));
        assert_eq!(request.status, 400);
        let body = String::from_utf8_lossy(request.body.as_ref()).to_string();
        assert!(body.contains("data/p.csv: too many"), "{body}");
    }
}
