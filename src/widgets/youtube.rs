//! youtube: a video's URL kept in a file, answered as plain text (Workspace embeds the player),
//! and, for `raw=true`, the video's transcript from a Markdown file of the same name beside it
//! (`videos/q3-call.md` for `videos/q3-call.url`), as `text/markdown`, for Workspace's AI.
//!
//! The file (default `<endpoint>.url`, then `.txt`, then `.json`) holds the URL: a `.json` file
//! as `{"url": "..."}` (or a JSON string); any other as its first line that is not blank, a
//! `[section]` header or a `#`/`;` comment, with a `URL=` prefix taken off, so a plain text file
//! and a Windows `.url` shortcut both read. Only an `https` link to a YouTube video
//! ([`video_url`]) is served: anything else is a 500 naming the file (and listed at `/`), never
//! a link to another site.

use serde_json::Value;

use crate::error::{FileError, Location};
use crate::files::utf8_text;
use crate::http::{Body, Response};
use crate::manifest::Source;
use crate::remote::is_remote;
use crate::widgets::{Call, table};

const HOSTS: [&str; 5] = [
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "youtube-nocookie.com",
    "www.youtube-nocookie.com",
];
/// The most characters of a refused URL a message shows.
const SHOWN_CHARS: usize = 100;
/// The paths below which a YouTube page names a video by its id.
const VIDEO_PATHS: [&str; 4] = ["/embed/", "/shorts/", "/live/", "/v/"];

pub fn serve(call: &Call, source: &Source) -> Response {
    let found = match call.locate(source) {
        Ok(found) => found,
        Err(err) => return err.into(),
    };
    if table::asks_raw(call) {
        return transcript(call, &found);
    }
    let shown = call.files.dir.display(&found);
    let bytes = match call.files.bytes(&found) {
        Ok(bytes) => bytes,
        Err(err) => return err.into(),
    };
    // Read where it lies in the file cache, not copied (the file may be big, if by mistake).
    let text = match call.files.noted(&shown, utf8_text(&shown, &bytes)) {
        Ok(text) => text,
        Err(err) => return err.into(),
    };
    let is_json = found.to_ascii_lowercase().ends_with(".json");
    let url = url_in(text, is_json).and_then(|(url, line)| match video_url(&url) {
        Ok(()) => Ok(url),
        Err(why) => Err((format!("'{}' {why}", shortened(&url)), line)),
    });
    let url = url.map_err(|(message, line)| FileError::Parse {
        file: shown.clone(),
        at: Location::line(line),
        message,
    });
    match call.files.noted(&shown, url) {
        Ok(url) => Response::new(
            200,
            "text/plain; charset=utf-8",
            Body::Owned(url.into_bytes()),
        ),
        Err(err) => err.into(),
    }
}

/// The Markdown file beside the URL's file, or a 404 naming the file looked for.
fn transcript(call: &Call, found: &str) -> Response {
    let name = match found.rsplit_once('.') {
        Some((stem, _)) if !stem.ends_with('/') => format!("{stem}.md"),
        _ => format!("{found}.md"),
    };
    let file = (!is_remote(&name))
        .then(|| call.files.try_find(&name))
        .flatten();
    let Some(file) = file else {
        return Response::error(
            404,
            &format!(
                "widget '{}' has no transcript: {} does not exist",
                call.widget.id,
                call.files.dir.display(&name)
            ),
        );
    };
    let shown = call.files.dir.display(&file);
    let text = call.files.bytes(&file).and_then(|bytes| {
        let checked = utf8_text(&shown, &bytes).map(|_| ());
        call.files.noted(&shown, checked).map(|()| bytes)
    });
    match text {
        Ok(bytes) => Response::new(200, "text/markdown; charset=utf-8", Body::Shared(bytes)),
        Err(err) => err.into(),
    }
}

/// At most [`SHOWN_CHARS`] characters of `text`, for a message (a file's first line may be
/// megabytes long).
fn shortened(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// The URL a file holds, with its line (0: the file as a whole), or why none is found.
fn url_in(text: &str, is_json: bool) -> Result<(String, u64), (String, u64)> {
    if is_json {
        let url = match serde_json::from_str::<Value>(text) {
            Ok(Value::String(url)) => Some(url),
            Ok(Value::Object(mut object)) => match object.remove("url") {
                Some(Value::String(url)) => Some(url),
                _ => None,
            },
            _ => None,
        };
        return url.map(|url| (url.trim().to_string(), 0)).ok_or_else(|| {
            (
                "expected {\"url\": \"https://www.youtube.com/watch?v=...\"}".into(),
                0,
            )
        });
    }
    let line = text.lines().zip(1..).find(|(line, _)| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with(['[', '#', ';'])
    });
    match line {
        Some((line, number)) => {
            let line = line.trim();
            let url = line
                .get(..4)
                .filter(|prefix| prefix.eq_ignore_ascii_case("url="))
                .map_or(line, |_| &line[4..]);
            Ok((url.trim().to_string(), number))
        }
        None => Err(("holds no URL".into(), 0)),
    }
}

/// Whether `url` is an `https` link to a YouTube video: on youtube.com (`/watch?v=ID`,
/// `/embed/ID`, `/shorts/ID`, `/live/ID`), youtube-nocookie.com or youtu.be (`/ID`), the id
/// made of letters, digits, `-` and `_`. Else why not (to follow "'url' ").
pub fn video_url(url: &str) -> Result<(), String> {
    let Some(rest) = url.strip_prefix("https://") else {
        return Err("is not an https:// URL".into());
    };
    if url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("is not a URL (spaces, control characters, or over 2048 bytes)".into());
    }
    let rest = rest.split('#').next().unwrap_or_default();
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (host, rest) = rest.split_at(host_end);
    let host = host.to_ascii_lowercase();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let id = if host == "youtu.be" {
        path.strip_prefix('/')
    } else if HOSTS.contains(&host.as_str()) {
        match path {
            "/watch" => query.split('&').find_map(|pair| pair.strip_prefix("v=")),
            _ => VIDEO_PATHS.iter().find_map(|p| path.strip_prefix(p)),
        }
    } else {
        return Err(format!(
            "is not on YouTube (youtube.com, youtu.be or youtube-nocookie.com), but on '{host}'"
        ));
    };
    let id = id.map(|id| id.split('/').next().unwrap_or_default());
    match id {
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(())
        }
        _ => Err(
            "names no video (expected /watch?v=ID, /embed/ID, /shorts/ID, /live/ID or youtu.be/ID)"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_links_to_a_youtube_video_pass() {
        for good in [
            "https://www.youtube.com/watch?v=uYyhswnZkSw",
            "https://youtube.com/watch?feature=share&v=uYyhswnZkSw#t=10",
            "https://m.youtube.com/shorts/abc_DEF-123",
            "https://www.youtube.com/embed/uYyhswnZkSw?start=5",
            "https://WWW.YouTube.com/live/uYyhswnZkSw",
            "https://youtu.be/uYyhswnZkSw?t=42",
            "https://www.youtube-nocookie.com/embed/uYyhswnZkSw",
        ] {
            assert_eq!(video_url(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("http://www.youtube.com/watch?v=x", "https"),
            ("javascript:alert(1)", "https"),
            ("https://evil.example/watch?v=x", "not on YouTube"),
            (
                "https://www.youtube.com@evil.example/watch?v=x",
                "not on YouTube",
            ),
            (
                "https://www.youtube.com.evil.example/watch?v=x",
                "not on YouTube",
            ),
            ("https://www.youtube.com:8443/watch?v=x", "not on YouTube"),
            ("https://www.youtube.com/", "names no video"),
            ("https://www.youtube.com/watch?v=", "names no video"),
            ("https://www.youtube.com/watch?v=a\"b", "names no video"),
            ("https://www.youtube.com/channel/UC123", "names no video"),
            ("https://youtu.be/", "names no video"),
            ("https://youtu.be/x y", "spaces"),
        ] {
            let err = video_url(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn messages_show_the_start_of_a_long_line() {
        assert_eq!(shortened("short"), "short");
        let long = "é".repeat(1 << 20);
        assert_eq!(shortened(&long), format!("{}…", "é".repeat(SHOWN_CHARS)));
    }

    #[test]
    fn the_url_is_read_from_text_shortcut_or_json() {
        let url = "https://youtu.be/abc".to_string();
        assert_eq!(
            url_in("https://youtu.be/abc\n", false),
            Ok((url.clone(), 1))
        );
        assert_eq!(
            url_in("[InternetShortcut]\r\nURL=https://youtu.be/abc\r\n", false),
            Ok((url.clone(), 2))
        );
        assert_eq!(
            url_in("# the Q3 call\n\n  url=https://youtu.be/abc  \n", false),
            Ok((url.clone(), 3))
        );
        assert_eq!(
            url_in(r#"{"url": "https://youtu.be/abc"}"#, true),
            Ok((url.clone(), 0))
        );
        assert_eq!(url_in(r#""https://youtu.be/abc""#, true), Ok((url, 0)));
        assert!(
            url_in("\n# nothing\n", false)
                .unwrap_err()
                .0
                .contains("no URL")
        );
        assert!(
            url_in(r#"{"link": "x"}"#, true)
                .unwrap_err()
                .0
                .contains("\"url\"")
        );
    }
}
