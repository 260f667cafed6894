//! Canonical JSON, the form in which the journal stores results and takes their digest.

/// The blake3 digest (hex) of a value's canonical JSON text, as `node_finished` records it.
pub(crate) fn result_digest(value: &serde_json::Value) -> String {
    let mut canonical = Vec::new();
    write_canonical(value, &mut canonical);
    blake3::hash(&canonical).to_hex().to_string()
}

/// Canonical JSON: no whitespace, object keys sorted by their UTF-8 bytes, numbers and
/// strings as serde_json writes them. Equal values give equal text.
pub(crate) fn write_canonical(value: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value as J;
    match value {
        J::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_scalar(&J::String(key.clone()), out);
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
        J::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(value: &serde_json::Value, out: &mut Vec<u8>) {
    serde_json::to_writer(out, value).expect("invariant: a JSON scalar serializes into memory");
}

#[cfg(test)]
mod tests {
    use serde_json::{Value as J, json};

    use super::*;

    #[test]
    fn canonical_text_ignores_key_order() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        write_canonical(&json!({ "x": { "q": 1, "p": [2] }, "w": "\"" }), &mut a);
        let reordered: J = serde_json::from_str(r#"{"w":"\"","x":{"p":[2],"q":1}}"#).unwrap();
        write_canonical(&reordered, &mut b);
        assert_eq!(a, b);
        assert_eq!(
            String::from_utf8(a).unwrap(),
            r#"{"w":"\"","x":{"p":[2],"q":1}}"#
        );
    }
}
