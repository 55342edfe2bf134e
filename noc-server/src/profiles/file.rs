//! The screens file (`--screens-file`): one `[screen."name"]` table per
//! screen, holding its profile. Read whole before anything changes; an
//! error names the file and the line to fix.

use std::collections::BTreeMap;
use std::path::Path;

use noc_shared::Profile;
use serde::Deserialize;
use toml::Spanned;

use super::validate;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScreensFile {
    #[serde(default)]
    screen: BTreeMap<String, Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
}

/// Reads the screens file at `path`: every profile it holds, by name.
pub fn read(path: &Path) -> Result<Vec<(String, Profile)>, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read screens file {shown}: {e}"))?;
    parse(&text).map_err(|(line, what)| match line {
        Some(line) => format!("screens file {shown}, line {line}: {what}"),
        None => format!("screens file {shown}: {what}"),
    })
}

/// What is wrong in a screens file: the line, when known, and what.
type FileError = (Option<usize>, String);

/// The profiles of a screens file's text.
pub fn parse(text: &str) -> Result<Vec<(String, Profile)>, FileError> {
    let line = |offset: usize| Some(text[..offset.min(text.len())].matches('\n').count() + 1);
    let file: ScreensFile = toml::from_str(text).map_err(|e| {
        let at = e.span().and_then(|s| line(s.start));
        (at, e.message().trim().to_owned())
    })?;
    let mut profiles = Vec::with_capacity(file.screen.len());
    for (name, table) in file.screen {
        let at = line(table.span().start);
        let name = validate::screen_name(&name).map_err(|e| (at, e))?;
        let mut profile = Profile::default();
        for (key, value) in table.into_inner() {
            let at = line(value.span().start);
            let json = serde_json::to_value(value.into_inner())
                .map_err(|e| (at, format!("{key}: {e}")))?;
            validate::set_key(&mut profile, &key, &json)
                .map_err(|e| (at, format!("screen {name:?}: {e}")))?;
        }
        profiles.push((name, profile));
    }
    Ok(profiles)
}

#[cfg(test)]
mod tests {
    use super::*;
    use noc_shared::ProfileView;

    #[test]
    fn reads_the_contracts_example() {
        let text = r#"
[screen."wall-3"]
title = "Tanzania NOC"
sites = ["Tanzania"]
min_severity = "warning"
view = "board"            # list | board | rotate
rotate = "30s"
hide_acked = true
show_silenced = false
bell = "critical"

[screen.lobby]
view = "rotate"
"#;
        let profiles = parse(text).expect("parses");
        assert_eq!(profiles.len(), 2);
        let (name, wall) = &profiles[1];
        assert_eq!(name, "wall-3");
        assert_eq!(wall.title.as_deref(), Some("Tanzania NOC"));
        assert_eq!(wall.view, Some(ProfileView::Board));
    }

    #[test]
    fn errors_name_the_line() {
        let bad_value = "[screen.a]\ntitle = \"A\"\nview = \"grid\"\n";
        let (line, what) = parse(bad_value).expect_err("refused");
        assert_eq!(line, Some(3), "{what}");
        assert!(what.contains("view"), "{what}");
        let bad_toml = "[screen.a]\ntitle = \"A\"\nview = \n";
        assert_eq!(parse(bad_toml).expect_err("refused").0, Some(3));
        let unknown = "[screen.a]\n\ncolour = \"red\"\n";
        assert_eq!(parse(unknown).expect_err("refused").0, Some(3));
    }
}
