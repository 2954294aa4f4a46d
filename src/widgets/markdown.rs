//! markdown: an `.md` file served as a JSON string. Images linked with a relative path
//! (`![chart](img/q3.png)`, resolved from the Markdown file's folder) are inlined as
//! `data:image/...;base64,` URIs, since Workspace cannot fetch them from the backend itself.
//! Links that are absolute, leave `data/`, are missing or are not images stay as written.

use crate::base64;
use crate::files::media_type;
use crate::http::Response;
use crate::manifest::Source;
use crate::paths::clean_request_path;
use crate::widgets::Call;

pub fn serve(call: &Call, source: &Source) -> Response {
    let relative = match call.locate(source) {
        Ok(relative) => relative,
        Err(err) => return err.into(),
    };
    let text = match call.files.text(&relative) {
        Ok(text) => text,
        Err(err) => return err.into(),
    };
    let folder = relative.rsplit_once('/').map_or("", |(folder, _)| folder);
    let inlined = inline_images(&text, |target| {
        let path = clean_request_path(&format!("{folder}/{target}"))?;
        let media = media_type(&path);
        if !media.starts_with("image/") {
            return None;
        }
        let bytes = call.files.bytes(&path).ok()?;
        Some(format!("data:{media};base64,{}", base64::encode(&bytes)))
    });
    Response::json(200, &inlined)
}

/// Rewrites the target of every `![alt](target "title")` image whose target is relative and
/// that `load` turns into a replacement.
pub fn inline_images(markdown: &str, load: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some(start) = rest.find("![") {
        let image = &rest[start..];
        let Some(alt_end) = image.find("](") else {
            break;
        };
        let link_start = alt_end + 2;
        let Some(link_len) = image[link_start..].find(')') else {
            break;
        };
        let link = &image[link_start..link_start + link_len];
        let (target, title) = link.split_at(link.find(char::is_whitespace).unwrap_or(link.len()));
        let relative =
            !target.is_empty() && !target.contains(':') && !target.starts_with(['/', '#']);
        out.push_str(&rest[..start]);
        match relative.then(|| load(target)).flatten() {
            Some(replacement) => {
                out.push_str(&image[..link_start]);
                out.push_str(&replacement);
                out.push_str(title);
                out.push(')');
            }
            None => out.push_str(&image[..=link_start + link_len]),
        }
        rest = &image[link_start + link_len + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::inline_images;

    fn load(target: &str) -> Option<String> {
        (target == "a.png" || target == "img/b.png").then(|| format!("data:{target}"))
    }

    #[test]
    fn relative_images_are_replaced() {
        assert_eq!(
            inline_images("x ![A](a.png) y ![B](img/b.png \"t\") z", load),
            "x ![A](data:a.png) y ![B](data:img/b.png \"t\") z"
        );
    }

    #[test]
    fn other_links_are_kept() {
        for text in [
            "![A](https://x/a.png)",
            "![A](/a.png)",
            "![A](missing.png)",
            "[link](a.png)",
            "![A](data:image/png;base64,xx)",
            "broken ![A](a.png",
            "broken ![A",
            "unicode é ![é](#x) ü",
        ] {
            assert_eq!(inline_images(text, load), text);
        }
    }
}
