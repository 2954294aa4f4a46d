//! The dashboard of a folder with no configuration: `/apps.json` lays out every generated
//! widget (a tab per top folder of `data/`, or per kind when it is flat) without overlaps,
//! links widgets sharing a parameter in groups, passes the front end's app rules and `check
//! --url`, follows `data/`; `init` writes exactly what is served; a user's own `apps.json`
//! always wins, and beside a user's `widgets.json` there is none.

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use openbb_files::validate::{self, GRID_COLUMNS};

use crate::support::{Fixture, InProcess, TestServer, check_options, run_check};

const BIN: &str = env!("CARGO_BIN_EXE_openbb-files");
const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";

/// A research desk as an analyst lays it out: tables at the top, reports and filings in folders.
fn desk() -> Fixture {
    let fixture = Fixture::new();
    fixture
        .write(
            "data/holdings.csv",
            "ticker,sector,weight\nAAPL,Tech,0.4\nMSFT,Tech,0.3\nAAPL,Tech,0.1\nXOM,Energy,0.2\n",
        )
        .write(
            "data/prices.csv",
            "date,ticker,close\n2024-01-02,AAPL,185.6\n2024-01-02,MSFT,370.1\n\
             2024-01-03,AAPL,184.2\n2024-01-03,MSFT,371.0\n",
        )
        .write("data/reports/AAPL.md", "# Apple\n\nBuy.\n")
        .write("data/reports/MSFT.md", "# Microsoft\n\nHold.\n")
        .write("data/filings/aapl-10k.pdf", PDF)
        .write("data/filings/msft-10k.pdf", PDF);
    fixture
}

/// The one app's tabs as `(name, [(i, x, y, w, h)])`, in order.
type Tabs = Vec<(String, Vec<(String, u64, u64, u64, u64)>)>;

fn tabs(apps: &Value) -> Tabs {
    let tabs = apps[0]["tabs"].as_object().into_iter().flatten();
    tabs.map(|(_, tab)| {
        let items = tab["layout"].as_array().unwrap().iter().map(|item| {
            let n = |key: &str| item[key].as_u64().unwrap();
            let id = item["i"].as_str().unwrap().to_string();
            (id, n("x"), n("y"), n("w"), n("h"))
        });
        (tab["name"].as_str().unwrap().to_string(), items.collect())
    })
    .collect()
}

/// The served apps are one app that the front end accepts with no warning, laying out every
/// served widget exactly once, within the grid and without overlaps.
fn assert_lays_out_every_widget(apps: &Value, widgets: &Value) {
    assert_eq!(apps.as_array().map(Vec::len), Some(1), "{apps}");
    let ids: HashSet<&str> = widgets
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(validate::apps(&mut apps.clone(), &ids), [], "{apps}");
    let mut placed = Vec::new();
    for (tab, items) in tabs(apps) {
        assert!(!items.is_empty(), "tab {tab} is empty");
        for (k, a) in items.iter().enumerate() {
            assert!(a.1 + a.3 <= GRID_COLUMNS, "{tab}: {a:?} leaves the grid");
            for b in &items[k + 1..] {
                let apart =
                    a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1 || a.2 + a.4 <= b.2 || b.2 + b.4 <= a.2;
                assert!(apart, "{tab}: {a:?} overlaps {b:?}");
            }
            placed.push(a.0.clone());
        }
    }
    placed.sort();
    let mut served: Vec<&str> = ids.into_iter().collect();
    served.sort();
    assert_eq!(placed, served, "every served widget once");
}

/// The ids of the widgets whose `params` (rows flattened) name `param_name`.
fn widgets_with_param(widgets: &Value, param_name: &str) -> Vec<String> {
    let has = |widget: &Value| {
        let params = widget["params"].as_array().into_iter().flatten();
        params
            .flat_map(|p| p.as_array().cloned().unwrap_or_else(|| vec![p.clone()]))
            .any(|p| p["paramName"] == param_name)
    };
    let widgets = widgets.as_object().unwrap();
    widgets
        .iter()
        .filter(|(_, widget)| has(widget))
        .map(|(id, _)| id.clone())
        .collect()
}

#[test]
fn zero_configuration_serves_a_dashboard_with_a_tab_per_top_folder() {
    let server = TestServer::start(desk());
    let widgets = server.get("/widgets.json").json();
    let apps = server.get("/apps.json").json();
    assert_lays_out_every_widget(&apps, &widgets);
    let names: Vec<String> = tabs(&apps).into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["Overview", "Filings", "Reports"]);
    for (tab, items) in tabs(&apps) {
        let prefix = match tab.as_str() {
            "Overview" => "",
            folder => &folder.to_lowercase(),
        };
        for (id, ..) in items {
            assert!(id.starts_with(prefix), "{id} on {tab}");
        }
    }
    assert_eq!(server.get("/templates.json").json(), apps);
    // The app checks of `check --url` pass.
    let (_, out) = run_check(&check_options(".", Some(server.url(""))));
    let line = out.lines().find(|l| l.contains("GET /apps.json")).unwrap();
    assert!(
        line.contains("1 apps from apps.json") && !line.contains("FAIL"),
        "{out}"
    );
}

#[test]
fn widgets_sharing_a_parameter_are_linked_in_a_group() {
    let server = InProcess::new(desk());
    let widgets = server.get("/widgets.json").json();
    let apps = server.get("/apps.json").json();
    let with_ticker = widgets_with_param(&widgets, "ticker");
    assert!(
        with_ticker.contains(&"holdings_csv".to_string())
            && with_ticker.contains(&"prices_csv".to_string()),
        "{widgets}"
    );
    let groups = apps[0]["groups"].as_array().unwrap();
    let ticker = groups
        .iter()
        .find(|g| g["paramName"] == "ticker")
        .unwrap_or_else(|| panic!("no ticker group in {apps}"));
    assert_eq!(ticker["type"], "endpointParam");
    let linked: Vec<String> = ticker["widgetIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_string())
        .collect();
    for id in ["holdings_csv", "prices_csv"] {
        assert!(linked.contains(&id.to_string()), "{ticker}");
    }
    let items = apps[0]["tabs"]["overview"]["layout"].as_array().unwrap();
    for item in items
        .iter()
        .filter(|item| linked.iter().any(|id| item["i"] == *id))
    {
        let in_group = item["groups"].as_array().unwrap();
        assert!(in_group.contains(&ticker["name"]), "{item}");
    }
    // Every parameter name two widgets share (file selectors aside) is linked.
    for group in groups {
        let name = group["paramName"].as_str().unwrap();
        assert!(widgets_with_param(&widgets, name).len() >= 2, "{group}");
    }
}

/// The pickers of one folder's alike files of two kinds are linked only when they offer the
/// same files: `f00.csv`… beside `f01.md`… are two params (a group would set the notes' picker
/// to a table's name); `AAPL.csv`, `AAPL.md`… share `ticker` and are linked.
#[test]
fn alike_files_of_two_kinds_are_linked_only_when_they_offer_the_same_names() {
    let fixture = Fixture::new();
    for n in ["00", "02", "04"] {
        fixture.write(&format!("data/desk/f{n}.csv"), "ticker,close\nAAPL,1\n");
    }
    for n in ["01", "03", "05"] {
        fixture.write(&format!("data/desk/f{n}.md"), "# A note\n");
    }
    // Two more kinds of alike tables (other columns), so two more pickers of the folder's name.
    for (stem, header) in [("g1", "x,y"), ("g2", "x,y"), ("h1", "p,q"), ("h2", "p,q")] {
        fixture.write(&format!("data/desk/{stem}.csv"), format!("{header}\n1,2\n"));
    }
    for ticker in ["AAPL", "MSFT"] {
        fixture
            .write(
                &format!("data/research/{ticker}.csv"),
                "date,close\n2024-01-02,1\n",
            )
            .write(&format!("data/research/{ticker}.md"), "# Notes\n");
    }
    let server = InProcess::new(fixture);
    let widgets = server.get("/widgets.json").json();
    let apps = server.get("/apps.json").json();
    assert_lays_out_every_widget(&apps, &widgets);
    assert_eq!(
        widgets_with_param(&widgets, "desk"),
        ["desk_desk_csv"],
        "{widgets}"
    );
    assert_eq!(
        widgets_with_param(&widgets, "desk_md"),
        ["desk_desk_md_md"],
        "{widgets}"
    );
    assert_eq!(
        server.get("/desk_desk_md_md?desk_md=f03").status,
        200,
        "the notes' picker picks a note"
    );
    let groups = apps[0]["groups"].as_array().unwrap();
    let linked = |param: &str| {
        let group = groups.iter().find(|g| g["paramName"] == param);
        group.map(|g| g["widgetIds"].as_array().unwrap().len())
    };
    let pickers = ["desk", "desk_md", "desk_csv", "desk_csv_2"];
    for param in pickers {
        assert_eq!(
            widgets_with_param(&widgets, param).len(),
            1,
            "{param}: {widgets}"
        );
        assert_eq!(linked(param), None, "{apps}");
    }
    assert_eq!(linked("ticker"), Some(2), "{apps}");
}

#[test]
fn a_flat_folder_gets_a_tab_per_kind() {
    let fixture = Fixture::new();
    fixture
        .write("data/prices.csv", "ticker,close\nAAPL,1\nMSFT,2\n")
        .write(
            "data/perf.json",
            r#"{"data": [{"x": [1, 2], "y": [3, 4]}], "layout": {}}"#,
        )
        .write("data/letter.pdf", PDF)
        .write("data/outlook.md", "# Outlook\n")
        .write("data/page.html", "<p>hi</p>");
    let server = InProcess::new(fixture);
    let apps = server.get("/apps.json").json();
    assert_lays_out_every_widget(&apps, &server.get("/widgets.json").json());
    let names: Vec<String> = tabs(&apps).into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["Data", "Charts", "Notes", "Documents"]);
}

#[test]
fn no_widgets_overlap_in_any_generated_folder() {
    let kinds: [(&str, &[u8]); 5] = [
        ("csv", b"ticker,close\nAAPL,1\nAAPL,2\nMSFT,3\n"),
        ("md", b"# Note\n"),
        ("pdf", PDF),
        (
            "json",
            br#"[{"ticker": "AAPL", "v": 1}, {"ticker": "AAPL", "v": 2}]"#,
        ),
        ("html", b"<p>x</p>"),
    ];
    let folders = ["", "", "research/", "desk/", "desk/deep/"];
    for (round, count) in [1usize, 2, 5, 9, 17].into_iter().enumerate() {
        let fixture = Fixture::new();
        for n in 0..count {
            let (extension, bytes) = kinds[(n * 7 + round) % kinds.len()];
            let folder = folders[(n * 3 + round) % folders.len()];
            fixture.write(&format!("data/{folder}file{n}.{extension}"), bytes);
        }
        let server = InProcess::new(fixture);
        let widgets = server.get("/widgets.json").json();
        assert!(!widgets.as_object().unwrap().is_empty(), "round {round}");
        assert_lays_out_every_widget(&server.get("/apps.json").json(), &widgets);
    }
}

#[test]
fn the_dashboard_follows_the_folder() {
    let fixture = Fixture::new();
    fixture.write("data/prices.csv", "ticker,close\nAAPL,1\n");
    let server = InProcess::new(fixture);
    assert_eq!(tabs(&server.get("/apps.json").json()).len(), 1);
    server.fixture.write("data/reports/AAPL.md", "# Apple\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    let names = loop {
        let names: Vec<String> = tabs(&server.get("/apps.json").json())
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        if names.len() > 1 || Instant::now() > deadline {
            break names;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(names, ["Overview", "Reports"]);
    // An empty data/ has no dashboard.
    std::fs::remove_dir_all(server.fixture.path("data")).unwrap();
    std::fs::create_dir(server.fixture.path("data")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.get("/apps.json").body != "[]" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(server.get("/apps.json").body, "[]");
}

#[test]
fn init_writes_the_dashboard_the_server_serves() {
    let server = InProcess::new(desk());
    let served = server.get("/apps.json").json();
    let init = Command::new(BIN)
        .args(["init", "--root"])
        .arg(&server.fixture.root)
        .output()
        .unwrap();
    assert!(init.status.success(), "{init:?}");
    let stdout = String::from_utf8(init.stdout).unwrap();
    assert!(
        stdout.contains("(one app: 3 tab(s), 1 group(s) of linked widgets)"),
        "{stdout}"
    );
    let written: Value =
        serde_json::from_slice(&std::fs::read(server.fixture.path("apps.json")).unwrap()).unwrap();
    assert_eq!(written, served);
    // Named after the folder; served as written from then on, beside the written widgets.json.
    let folder = server.fixture.root.file_name().unwrap().to_string_lossy();
    assert_eq!(
        written[0]["name"].as_str().unwrap().to_lowercase(),
        folder.replace(['-', '_'], " ")
    );
    assert_eq!(server.get("/apps.json").json(), written);
}

#[test]
fn a_users_apps_json_wins_and_a_users_widgets_json_has_no_generated_dashboard() {
    let server = InProcess::new(desk());
    assert_eq!(tabs(&server.get("/apps.json").json()).len(), 3);
    server
        .fixture
        .write("apps.json", r#"[{"name": "Mine", "tabs": {}}]"#);
    assert_eq!(server.get("/apps.json").json()[0]["name"], "Mine");
    std::fs::remove_file(server.fixture.path("apps.json")).unwrap();
    assert_eq!(tabs(&server.get("/apps.json").json()).len(), 3);
    server.fixture.write(
        "widgets.json",
        r#"{"prices": {"name": "P", "description": "d", "endpoint": "prices",
                       "backend": {"file": "prices.csv"}}}"#,
    );
    assert_eq!(server.get("/apps.json").body, "[]");
    assert_eq!(server.get("/").json()["problems"], serde_json::json!([]));
}

#[test]
fn hostile_folder_names_make_distinct_tabs() {
    let fixture = Fixture::new();
    for folder in ["a b", "a-b", "🚀 rockets", "???", "-x & <y>", "\"q\""] {
        fixture.write(&format!("data/{folder}/note.md"), "# Note\n");
    }
    let server = InProcess::new(fixture);
    let apps = server.get("/apps.json").json();
    assert_lays_out_every_widget(&apps, &server.get("/widgets.json").json());
    let tabs = apps[0]["tabs"].as_object().unwrap();
    let ids: Vec<&str> = tabs.keys().map(String::as_str).collect();
    assert_eq!(ids, ["q", "x-y", "tab", "a-b", "a-b-2", "rockets"]);
    let names: Vec<&str> = tabs.values().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["\"q\"", "X & <y>", "???", "A b", "a-b", "🚀 rockets"]
    );
}
