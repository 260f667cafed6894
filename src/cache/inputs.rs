//! The `inputs` option: files a task reads, hashed by content into its key.

use std::path::Path;

use super::Part;

/// Expands each glob pattern (relative to `base`, the flow file's directory) and hashes every
/// matching file's content. A file is named in its part as the pattern would name it
/// (`data/a.csv`); a pattern that matches nothing becomes a part of its own, so that a file
/// appearing later is a change. Never looks at modification times.
pub(crate) fn hash_inputs(patterns: &[String], base: &Path) -> Result<Vec<Part>, String> {
    let mut parts: Vec<Part> = Vec::new();
    for pattern in patterns {
        let full = base.join(pattern);
        let full = full.to_string_lossy();
        let paths = glob::glob(&full)
            .map_err(|e| format!("input pattern `{pattern}` is invalid: {}", e.msg))?;
        let mut files = Vec::new();
        for entry in paths {
            let path = entry.map_err(|e| {
                format!("cannot read input `{}`: {}", e.path().display(), e.error())
            })?;
            if path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        if files.is_empty() {
            parts.push(Part {
                id: format!("inputs:{pattern}"),
                digest: "no match".to_owned(),
            });
        }
        for path in files {
            let shown = path
                .strip_prefix(base)
                .unwrap_or(&path)
                .display()
                .to_string();
            let id = format!("input:{shown}");
            if parts.iter().any(|p| p.id == id) {
                continue; // two patterns matched the same file
            }
            let digest =
                hash_file(&path).map_err(|e| format!("cannot read input `{shown}`: {e}"))?;
            parts.push(Part { id, digest });
        }
    }
    Ok(parts)
}

fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    let mut file = std::fs::File::open(path)?;
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hasher.finalize().to_hex().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_hashed_by_content_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        std::fs::write(dir.path().join("data/b.csv"), "2").unwrap();
        std::fs::write(dir.path().join("data/a.csv"), "1").unwrap();
        let parts = hash_inputs(&["data/*.csv".to_owned()], dir.path()).unwrap();
        let ids: Vec<&str> = parts.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["input:data/a.csv", "input:data/b.csv"]);

        let before = parts[0].digest.clone();
        // Same content, new mtime: same digest. New content: another digest.
        std::fs::write(dir.path().join("data/a.csv"), "1").unwrap();
        assert_eq!(
            hash_inputs(&["data/a.csv".to_owned()], dir.path()).unwrap()[0].digest,
            before
        );
        std::fs::write(dir.path().join("data/a.csv"), "changed").unwrap();
        assert_ne!(
            hash_inputs(&["data/a.csv".to_owned()], dir.path()).unwrap()[0].digest,
            before
        );
    }

    #[test]
    fn a_pattern_without_match_is_a_part_and_a_bad_pattern_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let parts = hash_inputs(&["none/*.txt".to_owned()], dir.path()).unwrap();
        assert_eq!(parts[0].id, "inputs:none/*.txt");
        let err = hash_inputs(&["a[".to_owned()], dir.path()).unwrap_err();
        assert!(err.contains("`a[` is invalid"), "{err}");
    }
}
