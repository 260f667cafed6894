//! Artifact names: relative paths such as `report.txt` or `reports/day.csv`, checked once so
//! that a name can become a path under a staging directory without leaving it.

use std::fmt;

/// The longest name accepted, in bytes.
pub(crate) const MAX_NAME_BYTES: usize = 1024;
/// The longest part between two `/`, in bytes: what file systems accept for one file name.
pub(crate) const MAX_PART_BYTES: usize = 255;

/// A name that passed every rule of [`ArtifactName::parse`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ArtifactName(String);

/// The rule a name breaks; the message names the rule and shows the name.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NameError {
    #[error("artifact name is empty")]
    Empty,
    #[error("artifact name `{name}` is {len} bytes long; the limit is {MAX_NAME_BYTES}")]
    TooLong { name: String, len: usize },
    #[error(
        "artifact name `{name}` has a part of {len} bytes; each part between `/` may have at most {MAX_PART_BYTES}"
    )]
    PartTooLong { name: String, len: usize },
    #[error(
        "artifact name `{name}` contains the control character {code}; names are printable text"
    )]
    ControlCharacter { name: String, code: String },
    #[error(
        "artifact name `{name}` is absolute; names are relative paths such as `reports/day.csv`"
    )]
    Absolute { name: String },
    #[error("artifact name `{name}` has an empty part (`//` or a `/` at the end)")]
    EmptyPart { name: String },
    #[error(
        "artifact name `{name}` has a `{part}` part; names may not refer to the current or parent directory"
    )]
    DotPart { name: String, part: &'static str },
    #[error("staged file name `{name}` is not valid UTF-8; artifact names are text")]
    NotUtf8 { name: String },
}

impl ArtifactName {
    /// Checks `name` against the naming rules: not empty, at most [`MAX_NAME_BYTES`] bytes, no
    /// control character (NUL included), not absolute, and no empty, `.` or `..` part, so one
    /// artifact has exactly one spelling and no name reaches outside its directory.
    pub(crate) fn parse(name: &str) -> Result<Self, NameError> {
        let shown = || show(name);
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > MAX_NAME_BYTES {
            return Err(NameError::TooLong {
                name: shown(),
                len: name.len(),
            });
        }
        if let Some(c) = name.chars().find(|c| c.is_control()) {
            return Err(NameError::ControlCharacter {
                name: shown(),
                code: format!("U+{:04X}", u32::from(c)),
            });
        }
        if name.starts_with('/') {
            return Err(NameError::Absolute { name: shown() });
        }
        for part in name.split('/') {
            match part {
                "" => return Err(NameError::EmptyPart { name: shown() }),
                "." => {
                    return Err(NameError::DotPart {
                        name: shown(),
                        part: ".",
                    });
                }
                ".." => {
                    return Err(NameError::DotPart {
                        name: shown(),
                        part: "..",
                    });
                }
                p if p.len() > MAX_PART_BYTES => {
                    return Err(NameError::PartTooLong {
                        name: shown(),
                        len: p.len(),
                    });
                }
                _ => {}
            }
        }
        Ok(Self(name.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ArtifactName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A name as an error message shows it: control characters escaped, a long one shortened.
pub(super) fn show(name: &str) -> String {
    const SHOWN_CHARS: usize = 80;
    let escaped: String = name.escape_debug().collect();
    if escaped.chars().count() > SHOWN_CHARS {
        let head: String = escaped.chars().take(SHOWN_CHARS).collect();
        format!("{head}…")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_broken(name: &str) -> String {
        ArtifactName::parse(name).unwrap_err().to_string()
    }

    #[test]
    fn plain_names_and_sub_paths_are_accepted() {
        for name in [
            "report.txt",
            "reports/day.csv",
            "a/b/c",
            ".hidden",
            "x..y",
            "日報.md",
        ] {
            assert_eq!(ArtifactName::parse(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn parent_directory_parts_are_refused() {
        assert_eq!(
            rule_broken("../x"),
            "artifact name `../x` has a `..` part; names may not refer to the current or parent directory"
        );
        assert!(rule_broken("a/../../etc/passwd").contains("`..` part"));
        assert!(rule_broken("a/..").contains("`..` part"));
    }

    #[test]
    fn current_directory_parts_are_refused_so_a_name_has_one_spelling() {
        assert!(rule_broken("a/./b").contains("has a `.` part"));
        assert!(rule_broken("./a").contains("has a `.` part"));
    }

    #[test]
    fn absolute_names_are_refused() {
        assert_eq!(
            rule_broken("/etc/passwd"),
            "artifact name `/etc/passwd` is absolute; names are relative paths such as `reports/day.csv`"
        );
    }

    #[test]
    fn empty_names_and_empty_parts_are_refused() {
        assert_eq!(rule_broken(""), "artifact name is empty");
        assert!(rule_broken("a//b").contains("has an empty part"));
        assert!(rule_broken("dir/").contains("has an empty part"));
    }

    #[test]
    fn control_characters_are_refused_and_shown_escaped() {
        assert_eq!(
            rule_broken("a\0b"),
            "artifact name `a\\0b` contains the control character U+0000; names are printable text"
        );
        assert!(rule_broken("line\nbreak").contains("U+000A"));
    }

    #[test]
    fn overlong_names_and_parts_are_refused() {
        let part = "p".repeat(MAX_PART_BYTES);
        assert!(ArtifactName::parse(&part).is_ok());
        assert!(rule_broken(&format!("{part}q")).contains("a part of 256 bytes"));
        let long = vec!["d"; MAX_NAME_BYTES / 2 + 1].join("/");
        let err = rule_broken(&long);
        assert!(err.contains("the limit is 1024"), "{err}");
        assert!(err.contains('…'), "a long name is shortened: {err}");
    }
}
