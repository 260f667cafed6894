//! The `[[secrets]]` tables of a configuration file: one provider each, checked key by key so
//! that every mistake points at its own line.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::file::{duration, one_of};
use crate::error::{Diagnostic, SourceLoc};
use crate::script::suggest;
use crate::secrets::{DEFAULT_COMMAND_TIMEOUT, Provider};

type Table = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// The file again, reading only `secrets`, with the position of every key and value in it.
#[derive(Deserialize)]
struct Doc {
    secrets: Spanned<Vec<Spanned<Table>>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Env,
    File,
    Command,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Env => "env",
            Self::File => "file",
            Self::Command => "command",
        }
    }

    /// The keys a table of this provider may have.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Self::Env => &["provider", "prefix"],
            Self::File => &["provider", "path"],
            Self::Command => &["provider", "command", "timeout"],
        }
    }
}

/// The providers in file order; relative paths are taken from `dir`, the file's directory.
pub(super) fn parse(
    text: &str,
    loc: &dyn Fn(usize) -> SourceLoc,
    dir: &Path,
) -> Result<Vec<Provider>, Vec<Diagnostic>> {
    let doc: Doc = toml::from_str(text).map_err(|e| {
        vec![
            Diagnostic::new("`secrets` expects a list of tables, one per provider")
                .at(e.span().map(|s| loc(s.start)))
                .help("write each provider as a `[[secrets]]` table with `provider = \"env\"`, \"file\" or \"command\""),
        ]
    })?;
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut providers = Vec::new();
    let mut errors = Vec::new();
    for table in doc.secrets.get_ref() {
        match provider(table, loc, &dir) {
            Ok(p) => providers.push(p),
            Err(mut found) => errors.append(&mut found),
        }
    }
    if errors.is_empty() {
        Ok(providers)
    } else {
        Err(errors)
    }
}

fn provider(
    table: &Spanned<Table>,
    loc: &dyn Fn(usize) -> SourceLoc,
    dir: &Path,
) -> Result<Provider, Vec<Diagnostic>> {
    let entries = table.get_ref();
    let get = |key: &str| entries.iter().find(|(k, _)| k.get_ref() == key);
    let choices = [
        ("env", Kind::Env),
        ("file", Kind::File),
        ("command", Kind::Command),
    ];
    let Some((_, kind_value)) = get("provider") else {
        return Err(vec![
            Diagnostic::new("a `[[secrets]]` table needs `provider`")
                .at(Some(loc(table.span().start)))
                .help("`provider = \"env\"`, \"file\" or \"command\""),
        ]);
    };
    let kind = one_of("provider", kind_value.get_ref(), &choices)
        .map_err(|m| vec![Diagnostic::new(m).at(Some(loc(kind_value.span().start)))])?;
    let mut errors = Vec::new();
    for key in entries.keys() {
        let name = key.get_ref().as_str();
        if !kind.keys().contains(&name) {
            let keys = kind.keys().join(", ");
            let help = match suggest(name, kind.keys()) {
                Some(s) => format!("did you mean `{s}`? keys of this provider: {keys}"),
                None => format!("keys of this provider: {keys}"),
            };
            errors.push(
                Diagnostic::new(format!(
                    "unknown key `{name}` for secrets provider \"{}\"",
                    kind.name()
                ))
                .at(Some(loc(key.span().start)))
                .help(help),
            );
        }
    }
    let mut text = |key: &str, required: bool| -> Option<String> {
        match get(key) {
            Some((_, v)) => match v.get_ref().as_str() {
                Some(s) => Some(s.to_owned()),
                None => {
                    errors.push(
                        Diagnostic::new(format!(
                            "`{key}` expects a string, got {}",
                            v.get_ref().type_str()
                        ))
                        .at(Some(loc(v.span().start))),
                    );
                    None
                }
            },
            None if required => {
                errors.push(
                    Diagnostic::new(format!(
                        "secrets provider \"{}\" needs `{key}`",
                        kind.name()
                    ))
                    .at(Some(loc(table.span().start))),
                );
                None
            }
            None => None,
        }
    };
    let provider = match kind {
        Kind::Env => Provider::Env {
            prefix: text("prefix", false).unwrap_or_default(),
        },
        Kind::File => Provider::File {
            path: dir.join(text("path", true).unwrap_or_default()),
        },
        Kind::Command => {
            let command = text("command", true).unwrap_or_default();
            if !command.is_empty() && !command.contains("{name}") {
                let at = get("command").map(|(_, v)| loc(v.span().start));
                errors.push(
                    Diagnostic::new(
                        "`command` must contain `{name}`, where the secret's name goes",
                    )
                    .at(at)
                    .help("e.g. `command = \"pass show autowf/{name}\"`"),
                );
            }
            let timeout = match get("timeout") {
                Some((_, v)) => match duration("timeout", v.get_ref()) {
                    Ok(t) if !t.is_zero() => t,
                    Ok(_) => {
                        errors.push(
                            Diagnostic::new("`timeout` must be above zero")
                                .at(Some(loc(v.span().start))),
                        );
                        DEFAULT_COMMAND_TIMEOUT
                    }
                    Err(why) => {
                        errors.push(Diagnostic::new(why).at(Some(loc(v.span().start))));
                        DEFAULT_COMMAND_TIMEOUT
                    }
                },
                None => DEFAULT_COMMAND_TIMEOUT,
            };
            Provider::Command {
                command,
                dir: dir.to_path_buf(),
                timeout,
            }
        }
    };
    if errors.is_empty() {
        Ok(provider)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use crate::config::file;
    use crate::secrets::Provider;

    fn errors(text: &str) -> Vec<(String, u32, u32)> {
        file::parse(Path::new("/p/autowf.toml"), text)
            .unwrap_err()
            .iter()
            .map(|d| {
                let at = d.loc.as_ref().unwrap();
                (d.message.clone(), at.line, at.column)
            })
            .collect()
    }

    #[test]
    fn providers_are_read_in_order_with_paths_from_the_file() {
        let v = file::parse(
            Path::new("/p/autowf.toml"),
            "jobs = 2\n[[secrets]]\nprovider = \"env\"\nprefix = \"APP_\"\n\n[[secrets]]\nprovider = \"file\"\npath = \"secrets.env\"\n\n[[secrets]]\nprovider = \"command\"\ncommand = \"pass show {name}\"\n",
        )
        .unwrap();
        let (list, at) = v.secrets.unwrap();
        assert_eq!(at.line, 2);
        assert_eq!(
            list,
            vec![
                Provider::Env {
                    prefix: "APP_".to_owned()
                },
                Provider::File {
                    path: PathBuf::from("/p/secrets.env")
                },
                Provider::Command {
                    command: "pass show {name}".to_owned(),
                    dir: PathBuf::from("/p"),
                    timeout: std::time::Duration::from_secs(30),
                },
            ]
        );
    }

    #[test]
    fn mistakes_point_at_their_key_or_value() {
        assert_eq!(
            errors("[[secrets]]\nprovider = \"vault\"\n"),
            vec![(
                "`provider` expects \"env\", \"file\" or \"command\", got \"vault\"".to_owned(),
                2,
                12
            )]
        );
        let found = errors("[[secrets]]\nprovider = \"env\"\nprefx = \"A_\"\n");
        assert_eq!(
            found,
            vec![(
                "unknown key `prefx` for secrets provider \"env\"".to_owned(),
                3,
                1
            )]
        );
        let found = errors("[[secrets]]\nprovider = \"file\"\npath = 3\n");
        assert_eq!(
            found,
            vec![("`path` expects a string, got integer".to_owned(), 3, 8)]
        );
        let found = errors("[[secrets]]\nprovider = \"command\"\ncommand = \"pass show x\"\n");
        assert_eq!(
            found[0].0,
            "`command` must contain `{name}`, where the secret's name goes"
        );
        assert_eq!((found[0].1, found[0].2), (3, 11));
        let found = errors("secrets = \"env\"\n");
        assert_eq!(
            found[0].0,
            "`secrets` expects a list of tables, one per provider"
        );
        assert_eq!(found[0].1, 1);
    }

    #[test]
    fn a_table_without_a_provider_or_its_required_key_is_refused() {
        let found = errors("[[secrets]]\nprefix = \"A_\"\n");
        assert_eq!(found[0].0, "a `[[secrets]]` table needs `provider`");
        let found = errors("[[secrets]]\nprovider = \"file\"\n");
        assert_eq!(found[0].0, "secrets provider \"file\" needs `path`");
    }

    #[test]
    fn a_command_provider_takes_a_timeout_above_zero() {
        let command = "[[secrets]]\nprovider = \"command\"\ncommand = \"pass {name}\"\n";
        let v = file::parse(
            Path::new("/p/autowf.toml"),
            &format!("{command}timeout = \"2m\"\n"),
        )
        .unwrap();
        let Some((list, _)) = v.secrets else {
            panic!("a provider")
        };
        assert!(
            matches!(&list[0], Provider::Command { timeout, .. } if timeout.as_secs() == 120),
            "{list:?}"
        );
        let found = errors(&format!("{command}timeout = \"soon\"\n"));
        assert!(
            found[0]
                .0
                .starts_with("`timeout`: `soon` is not a duration"),
            "{found:?}"
        );
        assert_eq!((found[0].1, found[0].2), (4, 11));
        let found = errors(&format!("{command}timeout = \"0s\"\n"));
        assert_eq!(found[0].0, "`timeout` must be above zero");
        // The key belongs to the command provider only.
        let found = errors("[[secrets]]\nprovider = \"env\"\ntimeout = \"1s\"\n");
        assert_eq!(
            found[0].0,
            "unknown key `timeout` for secrets provider \"env\""
        );
    }
}
