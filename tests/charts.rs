//! Highcharts and Vega-Lite charts (theme variants and `raw`, as Plotly charts) and YouTube
//! widgets (a URL kept in a file, its transcript beside it), over real files, asked in process.

use serde_json::json;

use crate::support::{Fixture, InProcess, check_options, run_check};

const WIDGETS: &str = r#"{
  "flows": {"name": "Flows", "description": "d", "type": "chart-highcharts", "endpoint": "flows",
            "raw": true, "backend": {"file": "charts/flows.json", "records": "charts/flows.csv"}},
  "mix": {"name": "Mix", "description": "d", "type": "chart-vegalite", "endpoint": "mix", "raw": true,
          "params": [{"paramName": "sector", "type": "text", "value": "Tech"}],
          "backend": {"records": "charts/flows.csv"}},
  "no_records": {"name": "N", "description": "d", "type": "chart-vegalite", "endpoint": "no_records",
                 "raw": true, "backend": {"file": "mix.json"}},
  "call": {"name": "Q3 call", "description": "d", "type": "youtube", "endpoint": "call", "raw": true,
           "backend": {"file": "videos/q3-call.url"}},
  "picked": {"name": "Videos", "description": "d", "type": "youtube", "endpoint": "picked", "raw": true,
             "params": [{"paramName": "video", "type": "text", "value": "keynote"}],
             "backend": {"file": "videos/{video}.txt"}},
  "by_default": {"name": "Clip", "description": "d", "type": "youtube", "endpoint": "clip"}
}"#;

fn desk() -> InProcess {
    InProcess::new(desk_folder())
}

fn desk_folder() -> Fixture {
    let fixture = Fixture::new();
    fixture
        .write("widgets.json", WIDGETS)
        .write(
            "data/charts/flows.json",
            r##"{"chart": {"type": "column"}, "title": {"text": "Flows", "style": {"color": "#FF0000"}},
                "xAxis": {"categories": ["Tech", "Energy"]}, "series": [{"name": "Net", "data": [3, -1]}]}"##,
        )
        .write(
            "data/charts/flows.light.json",
            r##"{"chart": {"backgroundColor": "#FAFAFA"}, "series": []}"##,
        )
        .write("data/charts/flows.csv", "sector,net\nTech,3\nEnergy,-1\n")
        .write(
            "data/mix.json",
            r#"{"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "mark": "bar",
                "data": {"values": [{"sector": "Tech", "net": 3}]},
                "encoding": {"x": {"field": "sector"}, "y": {"field": "net"}}}"#,
        )
        .write(
            "data/videos/q3-call.url",
            "[InternetShortcut]\r\nURL=https://www.youtube.com/watch?v=uYyhswnZkSw\r\n",
        )
        .write(
            "data/videos/q3-call.md",
            "# Q3 call\n\nMargins rose two points.\n",
        )
        .write("data/videos/keynote.txt", "https://youtu.be/MSlhOFxEdxg\n")
        .write("data/videos/phish.txt", "https://evil.example/watch?v=x\n")
        .write(
            "data/clip.json",
            r#"{"url": "https://www.youtube.com/embed/uYyhswnZkSw"}"#,
        );
    fixture
}

#[test]
fn highcharts_follow_the_theme_and_answer_raw_with_records() {
    let server = desk();
    let plain = server.get("/flows");
    assert_eq!(plain.status, 200, "{plain:?}");
    assert_eq!(
        plain.json()["chart"],
        json!({"type": "column"}),
        "as written"
    );
    let dark = server.get("/flows?theme=dark").json();
    assert_eq!(dark["chart"]["backgroundColor"], "#151518");
    assert_eq!(
        dark["title"]["style"]["color"], "#FF0000",
        "the file's colour stays"
    );
    assert_eq!(dark["xAxis"]["labels"]["style"]["color"], "#E5E7EB");
    assert_eq!(dark["series"], json!([{"name": "Net", "data": [3, -1]}]));
    // A file made for the theme is served as it is.
    assert_eq!(
        server.get("/flows?theme=light").json(),
        json!({"chart": {"backgroundColor": "#FAFAFA"}, "series": []})
    );
    assert_eq!(
        server.get("/flows?raw=true&theme=dark").json(),
        json!([{"sector": "Tech", "net": 3}, {"sector": "Energy", "net": -1}])
    );
}

#[test]
fn vega_lite_follows_the_theme_and_answers_raw_with_filtered_records() {
    let server = desk();
    let light = server.get("/mix?sector=Tech&theme=light").json();
    assert_eq!(light["background"], "#FFFFFF");
    assert_eq!(light["config"]["axis"]["labelColor"], "#1A1A1A");
    assert_eq!(light["mark"], "bar");
    assert_eq!(
        light["data"]["values"],
        json!([{"sector": "Tech", "net": 3}])
    );
    assert_eq!(
        server.get("/mix?sector=Energy&raw=true").json(),
        json!([{"sector": "Energy", "net": -1}]),
        "records filtered by the params, like a table"
    );
    let none = server.get("/no_records?raw=true");
    assert_eq!(none.status, 404);
    assert!(
        none.detail().contains("names no records"),
        "{}",
        none.detail()
    );
}

#[test]
fn a_chart_file_of_the_wrong_shape_is_named() {
    let server = desk();
    server.fixture.write("data/mix.json", "[1, 2]");
    let reply = server.get("/no_records?theme=dark");
    assert_eq!(reply.status, 500);
    assert_eq!(
        reply.detail(),
        "data/mix.json: a Vega-Lite chart file must hold a spec object {\"mark\": ..., \"encoding\": {...}, ...}"
    );
}

#[test]
fn youtube_serves_the_url_kept_in_a_file_and_its_transcript_for_raw() {
    let server = desk();
    let url = server.get("/call");
    assert_eq!(url.status, 200, "{url:?}");
    assert_eq!(
        url.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(url.body, "https://www.youtube.com/watch?v=uYyhswnZkSw");
    let transcript = server.get("/call?raw=true");
    assert_eq!(transcript.status, 200);
    assert_eq!(
        transcript.header("content-type"),
        Some("text/markdown; charset=utf-8")
    );
    assert_eq!(transcript.body, "# Q3 call\n\nMargins rose two points.\n");
    // Picked by a param, from a .txt; the default file is <endpoint>.url, .txt, then .json.
    assert_eq!(
        server.get("/picked?video=keynote").body,
        "https://youtu.be/MSlhOFxEdxg"
    );
    assert_eq!(
        server.get("/clip").body,
        "https://www.youtube.com/embed/uYyhswnZkSw"
    );
    let missing = server.get("/picked?video=keynote&raw=true");
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.detail(),
        "widget 'picked' has no transcript: data/videos/keynote.md does not exist"
    );
}

#[test]
fn youtube_never_serves_a_link_to_another_site() {
    let server = desk();
    let reply = server.get("/picked?video=phish");
    assert_eq!(reply.status, 500);
    let detail = reply.detail();
    assert!(
        detail.contains("data/videos/phish.txt")
            && detail.contains("'https://evil.example/watch?v=x' is not on YouTube"),
        "{detail}"
    );
    assert!(
        server.get("/").json()["problems"]
            .to_string()
            .contains("data/videos/phish.txt"),
        "listed at /"
    );
    server.fixture.write(
        "data/videos/q3-call.url",
        "[InternetShortcut]\r\nURL=http://www.youtube.com/watch?v=uYyhswnZkSw\r\n",
    );
    let plain_http = server.get("/call");
    assert_eq!(plain_http.status, 500);
    assert!(plain_http.detail().contains("is not an https:// URL"));
    // A name that leaves data/ is refused before any file is read.
    assert_eq!(server.get("/picked?video=..").status, 400);
}

/// `check` (offline) loads these widgets with no problem; `check --url` judges their answers
/// (tests/check.rs, against the bundled example, which has one of each).
#[test]
fn check_accepts_these_widgets_offline() {
    let fixture = desk_folder();
    let (passed, out) = run_check(&check_options(&fixture.root, None));
    assert!(passed, "{out}");
    assert!(out.ends_with(": 0 error(s), 0 warning(s)\n"), "{out}");
}
