//! What this binary was built with, for `--version`: the version and the optional features
//! compiled in (`tls`: HTTPS in the server; `https-client`: `https://` remote sources and
//! `check --url`; `zstd`: `.zst` data files and Parquet's zstd codec), so a user can tell why
//! an HTTPS setting or a zstd file is refused. Invariant: [`FEATURES`]
//! lists every optional feature of Cargo.toml.

/// Each optional feature of Cargo.toml, and whether this build has it.
pub const FEATURES: [(&str, bool); 3] = [
    ("tls", cfg!(feature = "tls")),
    ("https-client", cfg!(feature = "https-client")),
    ("zstd", cfg!(feature = "zstd")),
];

/// `openbb-files 0.1.0 (features: tls, https-client)`, or `(features: none)`.
pub fn version_line() -> String {
    let built: Vec<&str> = FEATURES
        .iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| *name)
        .collect();
    let features = match built.is_empty() {
        true => "none".to_string(),
        false => built.join(", "),
    };
    format!(
        "{} {} (features: {features})",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_of_the_manifest_is_listed() {
        let manifest = include_str!("../Cargo.toml");
        let section = manifest
            .split("\n[features]\n")
            .nth(1)
            .and_then(|rest| rest.split("\n[").next())
            .expect("Cargo.toml has a [features] section");
        let mut declared: Vec<&str> = section
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once(" = ").map(|(name, _)| name))
            .filter(|name| *name != "default")
            .collect();
        let mut listed: Vec<&str> = FEATURES.iter().map(|(name, _)| *name).collect();
        declared.sort();
        listed.sort();
        assert_eq!(declared, listed);
    }

    #[test]
    fn the_line_names_the_version_and_the_features() {
        let line = version_line();
        assert!(line.starts_with("openbb-files 0.1.0 (features: "), "{line}");
        assert_eq!(line.contains("tls"), cfg!(feature = "tls"), "{line}");
        assert_eq!(
            line.contains("https-client"),
            cfg!(feature = "https-client"),
            "{line}"
        );
        if !cfg!(feature = "tls") && !cfg!(feature = "https-client") {
            assert_eq!(line, "openbb-files 0.1.0 (features: none)");
        }
    }
}
