//! The `KEY=value` files of the `file` provider, as dotenv tools write them: `#` comments,
//! blank lines, an optional `export `, values bare, in single quotes (taken literally) or in
//! double quotes (with `\n`, `\"` and `\\` escapes).

/// The value of `key`, the last one when it repeats; a line that is not `KEY=value` is an
/// error with its 1-based number.
pub(super) fn find(text: &str, key: &str) -> Result<Option<String>, (usize, String)> {
    let mut found = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, raw)) = line.split_once('=') else {
            return Err((i + 1, "expected `KEY=value`".to_owned()));
        };
        if name.trim() == key {
            found = Some(value(raw.trim()).map_err(|why| (i + 1, why))?);
        }
    }
    Ok(found)
}

fn value(raw: &str) -> Result<String, String> {
    if let Some(rest) = raw.strip_prefix('\'') {
        let end = rest
            .find('\'')
            .ok_or_else(|| "unclosed single quote".to_owned())?;
        return Ok(rest[..end].to_owned());
    }
    if let Some(rest) = raw.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Ok(out),
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => break,
                },
                c => out.push(c),
            }
        }
        return Err("unclosed double quote".to_owned());
    }
    // A bare value ends at a comment that follows whitespace.
    let bare = raw.find(" #").map_or(raw, |i| &raw[..i]);
    Ok(bare.trim_end().to_owned())
}

#[cfg(test)]
mod tests {
    use super::find;

    const FILE: &str = r#"
# database
export DB_PASSWORD = "p@ss \"w\" #1\n"
API_KEY=abc123def # the staging key
SINGLE='it''s $HOME'
EMPTY=
API_KEY=second-value
"#;

    #[test]
    fn values_bare_quoted_and_commented() {
        assert_eq!(
            find(FILE, "DB_PASSWORD").unwrap().as_deref(),
            Some("p@ss \"w\" #1\n")
        );
        assert_eq!(
            find(FILE, "API_KEY").unwrap().as_deref(),
            Some("second-value")
        );
        assert_eq!(find(FILE, "SINGLE").unwrap().as_deref(), Some("it"));
        assert_eq!(find(FILE, "EMPTY").unwrap().as_deref(), Some(""));
        assert_eq!(find(FILE, "NOPE").unwrap(), None);
    }

    #[test]
    fn malformed_lines_are_reported_by_number() {
        assert_eq!(
            find("A=1\nnot a pair\n", "A").unwrap_err(),
            (2, "expected `KEY=value`".to_owned())
        );
        assert_eq!(
            find("A=\"open\n", "A").unwrap_err(),
            (1, "unclosed double quote".to_owned())
        );
    }
}
