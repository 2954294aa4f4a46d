//! Hostile file names: quotes, `&`, `<`, spaces, emoji and a leading dash. File names become
//! widget ids, endpoints, titles, `backend.file` values and raw-file URLs, so each must come out
//! of zero configuration as a widget Workspace accepts, whose endpoint answers the file's rows.
//! Asked in process (`InProcess`), and once over a socket with the name percent-encoded.

use serde_json::{Value, json};

use openbb_files::http::percent_encode;

use crate::support::{Fixture, InProcess, TestServer};

/// The hostile names, each a CSV table of one row naming itself, with the widget id zero
/// configuration gives it.
const TABLES: [(&str, &str); 6] = [
    ("-a \"q\" & <b> 🚀.csv", "a_q_b_csv"),
    ("it's.csv", "it_s_csv"),
    ("AT&T <prices>.csv", "at_t_prices_csv"),
    ("two  spaces .csv", "two_spaces_csv"),
    ("🚀 rocket.csv", "rocket_csv"),
    ("--help.csv", "help_csv"),
];

const PDF: &str = "%PDF-1.4\n%%EOF\n";

fn hostile() -> Fixture {
    let fixture = Fixture::new();
    for (name, _) in TABLES {
        fixture.write(&format!("data/{name}"), table_of(name));
    }
    fixture
        .write("data/\"quoted\" & <b>.md", "# A note\n")
        .write("data/-reports & co/\"q3\" <final> 🚀.pdf", PDF)
        .write("data/-reports & co/it's 2.pdf", PDF);
    fixture
}

/// A one-row table whose `file` cell is `name`, written as a CSV quotes it.
fn table_of(name: &str) -> String {
    format!("file,n\n\"{}\",1\n", name.replace('"', "\"\""))
}

#[test]
fn zero_configuration_serves_every_hostile_name() {
    let app = InProcess::new(hostile());
    let manifest = app.get("/widgets.json").json();
    let widgets = manifest.as_object().unwrap();
    assert_eq!(
        app.get("/").json()["problems"],
        json!([]),
        "every widget passed the front end's rules"
    );
    for (name, id) in TABLES {
        let widget = widgets
            .get(id)
            .unwrap_or_else(|| panic!("{name}: no widget {id} in {manifest}"));
        assert_eq!(widget["endpoint"], id, "{name}");
        assert_eq!(
            app.get(&format!("/{id}")).json(),
            json!([{"file": name, "n": 1}]),
            "{name}"
        );
        let options = app.get(&format!("/{id}/options/file"));
        assert_eq!(options.status, 404, "{name}: one row makes no dropdown");
    }
    assert_eq!(
        app.get("/quoted_b_md").json(),
        json!("# A note\n"),
        "{manifest}"
    );
    assert_eq!(widgets["reports_co_files"]["type"], "multi_file_viewer");
    let pdfs = ["\"q3\" <final> 🚀.pdf", "it's 2.pdf"];
    assert_eq!(
        app.get("/reports_co_files/files").json(),
        json!(pdfs.map(|name| json!({"label": name, "value": name})))
    );
    let files = app.post("/reports_co_files", &json!({"filenames": pdfs}).to_string());
    let shown: Vec<Value> = (files.json().as_array().unwrap().iter())
        .map(|file| file["data_format"]["filename"].clone())
        .collect();
    assert_eq!(shown, pdfs, "{files:?}");
}

/// Names that differ only in what an id cannot hold would make one id; none hides another.
#[test]
fn names_that_make_one_id_each_keep_a_widget() {
    let fixture = Fixture::new();
    let names = ["a b.csv", "a&b.csv", "🎉.csv", "🚀.csv"];
    for name in names {
        fixture.write(&format!("data/{name}"), table_of(name));
    }
    let app = InProcess::new(fixture);
    let manifest = app.get("/widgets.json").json();
    let ids: Vec<&String> = manifest.as_object().unwrap().keys().collect();
    assert_eq!(ids, ["a_b_csv", "a_b_csv_2", "csv", "csv_2"]);
    for (name, id) in names.iter().zip(ids) {
        assert_eq!(manifest[id]["endpoint"], *id);
        assert_eq!(
            app.get(&format!("/{id}")).json(),
            json!([{"file": name, "n": 1}])
        );
    }
}

/// A name written in widgets.json as `backend.file` reads the same file, and a hostile name in
/// a filter value is only a value.
#[test]
fn a_hostile_name_in_widgets_json_and_in_a_filter_value() {
    let fixture = hostile();
    let (name, _) = TABLES[0];
    let widgets = json!({"rocket": {"name": "R", "description": "d", "endpoint": "rocket",
                                    "backend": {"file": name}}});
    fixture.write("widgets.json", widgets.to_string());
    let app = InProcess::new(fixture);
    assert_eq!(app.get("/").json()["problems"], json!([]));
    let query = format!("/rocket?file={}", percent_encode(name));
    assert_eq!(app.get(&query).json(), json!([{"file": name, "n": 1}]));
    let other = format!("/rocket?file={}", percent_encode(TABLES[1].0));
    assert_eq!(app.get(&other).json(), json!([]));
}

#[test]
fn over_a_socket_hostile_names_answer_percent_encoded() {
    let server = TestServer::start(hostile());
    let manifest = server.get("/widgets.json").json();
    for (name, id) in TABLES {
        let endpoint = manifest[id]["endpoint"].as_str().unwrap();
        let path = format!(
            "/{}?file={}",
            percent_encode(endpoint),
            percent_encode(name)
        );
        assert_eq!(
            server.get(&path).json(),
            json!([{"file": name, "n": 1}]),
            "{name}"
        );
    }
    let raw = format!(
        "/files/{}/{}",
        percent_encode("-reports & co"),
        percent_encode("\"q3\" <final> 🚀.pdf")
    );
    let file = server.get(&raw);
    assert_eq!((file.status, file.body.as_str()), (200, PDF), "{raw}");
    let disposition = file.header("content-disposition").unwrap_or("");
    assert!(
        disposition.is_ascii() && !disposition.contains('"'),
        "the name is encoded, not quoted raw: {disposition}"
    );
    let _: Value = server.get("/").json();
}
