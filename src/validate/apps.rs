//! `apps.json` by the front end's app schema: `name` and `tabs` (each `{id, name, layout}`,
//! every layout item `{i, x, y, w, h}` with numbers), an `id` beginning `custom-`, `groups`,
//! `prompts`, `mcpServers` (`mcp_servers` is read as `mcpServers`). Workspace drops every app
//! when one fails, so a failing app is left out on its own and the others are served. A layout
//! item naming a widget that is not served is taken out (Workspace only warns of it).

use std::collections::HashSet;

use serde_json::Value;

use super::{
    BOOL, GRID_COLUMNS, Issue, NUMBER, OBJECT, Shape, TEXT, TEXT_LIST, check_one_of,
    check_required_text, check_shapes, has_error, shown,
};

/// The top-level keys of an app the front end knows; others raise its "unrecognized" toast.
const KNOWN_APP_KEYS: [&str; 15] = [
    "templateId",
    "id",
    "name",
    "description",
    "selected_agent",
    "img",
    "img_dark",
    "img_light",
    "authentication",
    "tabs",
    "groups",
    "prompts",
    "mcpServers",
    "allowCustomization",
    "mcp_servers",
];
const APP_SHAPES: [(&str, Shape); 12] = [
    ("templateId", TEXT),
    ("id", TEXT),
    ("description", TEXT),
    ("selected_agent", TEXT),
    ("img", TEXT),
    ("img_dark", TEXT),
    ("img_light", TEXT),
    ("authentication", TEXT),
    ("tabs", OBJECT),
    ("prompts", TEXT_LIST),
    ("allowCustomization", BOOL),
    (
        "groups",
        Shape {
            accepts: Value::is_array,
            expected: "an array of groups",
        },
    ),
];
const LAYOUT_SHAPES: [(&str, Shape); 9] = [
    ("minW", NUMBER),
    ("minH", NUMBER),
    ("maxW", NUMBER),
    ("maxH", NUMBER),
    ("moved", BOOL),
    ("static", BOOL),
    ("isDraggable", BOOL),
    ("state", OBJECT),
    ("groups", TEXT_LIST),
];
const STATE_SHAPES: [(&str, Shape); 7] = [
    ("paramOrder", TEXT_LIST),
    ("params", OBJECT),
    ("chartView", OBJECT),
    ("chartModel", OBJECT),
    ("columnState", OBJECT),
    ("filterModel", OBJECT),
    ("storage", OBJECT),
];

/// Checks every app of `document` (an array, as `/apps.json` serves it), leaving out those that
/// break a rule and the layout items naming widgets that are not in `ids` (ids beginning
/// `rich_note`, Workspace's own notes, excepted). Gives the issues, fields prefixed `[index]`.
pub fn apps(document: &mut Value, ids: &HashSet<&str>) -> Vec<Issue> {
    let mut issues = Vec::new();
    let Some(list) = document.as_array_mut() else {
        return issues;
    };
    let mut index = 0;
    list.retain_mut(|app| {
        let prefix = format!("[{index}]");
        index += 1;
        if let Some(app) = app.as_object_mut()
            && !app.contains_key("mcpServers")
            && let Some(servers) = app.remove("mcp_servers")
        {
            app.insert("mcpServers".into(), servers);
        }
        let found = check_app(&prefix, app);
        let keep = !has_error(&found);
        issues.extend(found);
        if keep {
            issues.extend(missing_widgets(&prefix, app, ids));
        } else {
            issues.push(Issue::error(prefix, "this app is left out"));
        }
        keep
    });
    issues
}

/// Every rule of the front end's app schema for one app.
pub fn check_app(prefix: &str, app: &Value) -> Vec<Issue> {
    let mut issues = Vec::new();
    let Some(app) = app.as_object() else {
        issues.push(Issue::error(prefix, "expected an app object"));
        return issues;
    };
    check_required_text(app, prefix, "name", &mut issues);
    check_shapes(app, prefix, &APP_SHAPES, &mut issues);
    if app
        .get("id")
        .and_then(Value::as_str)
        .is_some_and(|id| id.len() <= "custom-".len() || !id.starts_with("custom-"))
    {
        issues.push(Issue::error(
            format!("{prefix}.id"),
            format!("{} must begin with custom- and go on", shown(&app["id"])),
        ));
    }
    match app.get("tabs") {
        Some(Value::Object(tabs)) => {
            for (tab_id, tab) in tabs {
                tab_rules(&format!("{prefix}.tabs.{tab_id}"), tab, &mut issues);
            }
        }
        Some(_) => {}
        None => issues.push(Issue::error(
            format!("{prefix}.tabs"),
            "required, as an object of tabs",
        )),
    }
    if let Some(Value::Array(groups)) = app.get("groups") {
        group_rules(prefix, groups, &mut issues);
    }
    if let Some(servers) = app.get("mcpServers") {
        mcp_rules(prefix, servers, &mut issues);
    }
    for key in app.keys().filter(|k| !KNOWN_APP_KEYS.contains(&k.as_str())) {
        issues.push(Issue::warning(
            format!("{prefix}.{key}"),
            "not a key Workspace knows (it shows an \"unrecognized\" warning)",
        ));
    }
    issues
}

fn tab_rules(prefix: &str, tab: &Value, issues: &mut Vec<Issue>) {
    let Some(tab) = tab.as_object() else {
        issues.push(Issue::error(
            prefix,
            "expected a tab object {id, name, layout}",
        ));
        return;
    };
    check_required_text(tab, prefix, "id", issues);
    check_required_text(tab, prefix, "name", issues);
    let Some(layout) = tab.get("layout").and_then(Value::as_array) else {
        issues.push(Issue::error(
            format!("{prefix}.layout"),
            "required, as an array of layout items",
        ));
        return;
    };
    for (i, item) in layout.iter().enumerate() {
        let prefix = format!("{prefix}.layout[{i}]");
        let Some(item) = item.as_object() else {
            issues.push(Issue::error(
                prefix,
                "expected a layout item {i, x, y, w, h}",
            ));
            continue;
        };
        check_required_text(item, &prefix, "i", issues);
        for key in ["x", "y", "w", "h"] {
            if !item.get(key).is_some_and(Value::is_number) {
                issues.push(Issue::error(
                    format!("{prefix}.{key}"),
                    "required, as a number",
                ));
            }
        }
        check_shapes(item, &prefix, &LAYOUT_SHAPES, issues);
        if let Some(Value::Object(state)) = item.get("state") {
            check_shapes(state, &format!("{prefix}.state"), &STATE_SHAPES, issues);
        }
    }
}

/// Each group is `{name, type}` with an optional `paramName` and `widgetIds`. When one group
/// lists `widgetIds`, the front end reads every group's list (and fails on a group without one).
fn group_rules(prefix: &str, groups: &[Value], issues: &mut Vec<Issue>) {
    let any_lists_widgets = groups.iter().any(|g| g.get("widgetIds").is_some());
    for (i, group) in groups.iter().enumerate() {
        let prefix = format!("{prefix}.groups[{i}]");
        let Some(group) = group.as_object() else {
            issues.push(Issue::error(prefix, "expected a group object {name, type}"));
            continue;
        };
        check_required_text(group, &prefix, "name", issues);
        check_required_text(group, &prefix, "type", issues);
        check_shapes(
            group,
            &prefix,
            &[("paramName", TEXT), ("widgetIds", TEXT_LIST)],
            issues,
        );
        if any_lists_widgets && !group.contains_key("widgetIds") {
            issues.push(Issue::error(
                format!("{prefix}.widgetIds"),
                "required when another group lists widgetIds (Workspace reads every group's)",
            ));
        }
    }
}

fn mcp_rules(prefix: &str, servers: &Value, issues: &mut Vec<Issue>) {
    let Some(servers) = servers.as_array() else {
        issues.push(Issue::error(
            format!("{prefix}.mcpServers"),
            "expected an array of {name, url}",
        ));
        return;
    };
    for (i, server) in servers.iter().enumerate() {
        let prefix = format!("{prefix}.mcpServers[{i}]");
        let Some(server) = server.as_object() else {
            issues.push(Issue::error(prefix, "expected an object {name, url}"));
            continue;
        };
        check_required_text(server, &prefix, "name", issues);
        check_shapes(server, &prefix, &[("description", TEXT)], issues);
        check_one_of(
            server,
            &prefix,
            "authType",
            &["oauth", "token"],
            false,
            issues,
        );
        if !server
            .get("url")
            .and_then(Value::as_str)
            .is_some_and(is_url)
        {
            issues.push(Issue::error(
                format!("{prefix}.url"),
                "required, as a URL (scheme://host...)",
            ));
        }
    }
}

/// A URL as a browser's URL parser takes it: a scheme, `:`, and something after it.
fn is_url(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && !text.contains(char::is_whitespace)
}

/// Takes out the layout items of a (valid) app that name widgets not in `ids`, and warns of
/// items outside the 40-column grid.
fn missing_widgets(prefix: &str, app: &mut Value, ids: &HashSet<&str>) -> Vec<Issue> {
    let mut issues = Vec::new();
    let Some(tabs) = app.get_mut("tabs").and_then(Value::as_object_mut) else {
        return issues;
    };
    for (tab_id, tab) in tabs.iter_mut() {
        let Some(layout) = tab.get_mut("layout").and_then(Value::as_array_mut) else {
            continue;
        };
        let mut index = 0;
        layout.retain(|item| {
            let field = format!("{prefix}.tabs.{tab_id}.layout[{index}]");
            index += 1;
            let id = item.get("i").and_then(Value::as_str).unwrap_or_default();
            if !id.starts_with("rich_note") && !ids.contains(id) {
                issues.push(Issue::warning(
                    format!("{field}.i"),
                    format!("'{id}' is not a served widget; the item is left out"),
                ));
                return false;
            }
            let x = item.get("x").and_then(Value::as_f64);
            let w = item.get("w").and_then(Value::as_f64);
            if !matches!((x, w), (Some(x), Some(w)) if w >= 1.0 && x >= 0.0 && x + w <= GRID_COLUMNS as f64)
            {
                issues.push(Issue::warning(
                    field,
                    format!("x + w must stay within the {GRID_COLUMNS}-column grid"),
                ));
            }
            true
        });
    }
    issues
}
