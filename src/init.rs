//! `openbb-files init [DIR | --root DIR] [--force]`: writes the `widgets.json` the server would
//! generate for `DIR/data/` (see [`crate::generate`]) and the `apps.json` dashboard it would
//! serve with it (see [`crate::dashboard`]), for the user to edit. An existing file is never
//! overwritten without `--force`.

use std::path::{Path, PathBuf};

use crate::config::UsageError;
use crate::config::subcommand_flags;
use crate::dashboard;
use crate::files::Files;
use crate::generate;
use crate::manifest::Manifest;
use crate::paths::DataDir;

#[derive(Debug, PartialEq)]
pub struct Options {
    pub root: PathBuf,
    pub force: bool,
}

pub fn help() -> String {
    "Usage: openbb-files init [DIR | --root DIR] [--force]\n\n\
     Write DIR/widgets.json (a widget for each file in DIR/data/) and DIR/apps.json (a dashboard\n\
     with every widget: a tab per folder, shared params linked), as the server serves them\n\
     without these files, to edit. Existing files are kept unless --force.\n\n\
     Options:\n  \
     --root DIR   folder holding data/, also given as DIR [default: .] (env OPENBB_FILES_ROOT)\n  \
     --force      overwrite widgets.json and apps.json (env OPENBB_FILES_FORCE=1)\n"
        .to_string()
}

/// Parses the arguments after `init`; `None` asks for the help text.
pub fn parse(
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Options>, UsageError> {
    let Some(value) = subcommand_flags("init", args, &["root"], &["force"], env)? else {
        return Ok(None);
    };
    Ok(Some(Options {
        root: PathBuf::from(value("root").unwrap_or_else(|| ".".into())),
        force: value("force").is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes")),
    }))
}

/// Writes the files; returns what was written, or why nothing was.
pub fn run(options: &Options) -> Result<Vec<String>, String> {
    let warning = crate::check::root_check(&options.root)?;
    let data = options.root.join("data");
    if !data.is_dir() {
        return Err(format!("{} is not a folder", data.display()));
    }
    let targets = [
        options.root.join("widgets.json"),
        options.root.join("apps.json"),
    ];
    if !options.force
        && let Some(existing) = targets.iter().find(|t| t.exists())
    {
        return Err(format!(
            "{} exists; use --force to overwrite it",
            existing.display()
        ));
    }
    let widgets = generate::widgets(&Files::new(DataDir::new(data)));
    let count = widgets.len();
    let widgets = serde_json::Value::Object(widgets);
    // The dashboard of the widgets as the server would serve them (`generate::Generated`).
    let served = Manifest::parse(Some(&serde_json::to_vec(&widgets).unwrap_or_default()))?;
    let apps = dashboard::apps(&served, &dashboard::app_name(&options.root));
    let pretty = |value: &serde_json::Value| {
        let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
        text.push('\n');
        text
    };
    write(&targets[0], &pretty(&widgets))?;
    write(&targets[1], &pretty(&apps))?;
    let tabs = apps[0]["tabs"].as_object().map_or(0, |tabs| tabs.len());
    let groups = apps[0]["groups"].as_array().map_or(0, Vec::len);
    let written = [
        format!("wrote {} ({count} widgets)", targets[0].display()),
        format!(
            "wrote {} (one app: {tabs} tab(s), {groups} group(s) of linked widgets)",
            targets[1].display()
        ),
    ];
    Ok(warning
        .map(|warning| format!("warning: {warning}"))
        .into_iter()
        .chain(written)
        .collect())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|err| format!("{}: {err}", path.display()))
}
