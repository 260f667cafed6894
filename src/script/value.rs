//! Values that travel between tasks, and the handles that stand for values not known yet.
//!
//! Outside `script/` a value is the opaque [`Value`]; only this module looks inside it.

use std::fmt::Write as _;

use rhai::{Array, Dynamic, FnPtr, Map};

use crate::dag::NodeId;
use crate::secrets::Secret;

/// The result of a node (or a flow), as data: unit, bool, int, float, string, array, map, blob.
#[derive(Clone, Debug, Default)]
pub(crate) struct Value(pub(crate) Dynamic);

/// A node's future result inside a flow body. Passing it to a task makes an edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Handle {
    pub(crate) id: NodeId,
}

/// Marks a handle inside an interpolated string: `${total}` in a flow body.
const SENTINEL: char = '\u{1}';
const SENTINEL_TAG: &str = "autowf-handle:";

impl Handle {
    pub(crate) fn sentinel(self) -> String {
        format!("{SENTINEL}{SENTINEL_TAG}{}{SENTINEL}", self.id.0)
    }
}

impl Value {
    pub(crate) fn unit() -> Self {
        Self(Dynamic::UNIT)
    }

    pub(crate) fn from_json(json: &serde_json::Value) -> Self {
        Self(json_to_dynamic(json))
    }

    pub(crate) fn to_json(&self) -> serde_json::Value {
        to_json(&self.0)
    }

    /// The nodes whose results this value still waits for.
    pub(crate) fn pending_nodes(&self) -> Vec<NodeId> {
        let mut out = Vec::new();
        collect_handles(&self.0, &mut out);
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Replaces every handle with the result `lookup` gives for it.
    pub(crate) fn resolve(&self, lookup: &dyn Fn(NodeId) -> Value) -> Value {
        Value(substitute(&self.0, lookup, Quote::None))
    }

    #[cfg(test)]
    pub(crate) fn int(i: i64) -> Self {
        Self(Dynamic::from_int(i))
    }

    /// A list of handles, as a fan-out's result is before its children finish.
    #[cfg(test)]
    pub(crate) fn handles(ids: &[NodeId]) -> Self {
        Self(Dynamic::from_array(
            ids.iter().map(|&id| Dynamic::from(Handle { id })).collect(),
        ))
    }

    #[cfg(test)]
    pub(crate) fn as_int(&self) -> Option<i64> {
        self.0.as_int().ok()
    }
}

/// How [`type_name`] names a secret.
pub(crate) const SECRET_TYPE: &str = "a secret";

/// A user-facing type name for error messages.
pub(crate) fn type_name(v: &Dynamic) -> &'static str {
    if v.is::<Handle>() {
        return "a task result handle";
    }
    if v.is::<Secret>() {
        return SECRET_TYPE;
    }
    match v.type_name() {
        "()" => "()",
        "bool" => "bool",
        "i64" => "int",
        "f64" => "float",
        "string" | "ImmutableString" => "string",
        "char" => "char",
        "array" => "array",
        "map" => "map",
        "blob" => "blob",
        "Fn" => "function pointer",
        "timestamp" => "timestamp",
        other if other.contains("Range") => "range",
        _ => "non-data value",
    }
}

/// Whether a string holds at least one interpolated handle.
fn has_sentinel(s: &str) -> bool {
    s.contains(SENTINEL)
}

/// A part of a string holding interpolated handles.
enum Piece<'a> {
    Text(&'a str),
    Handle(NodeId),
}

/// Calls `f` for each text run and each handle in `s`, in order.
fn split_sentinels(s: &str, mut f: impl FnMut(Piece<'_>)) {
    let mut rest = s;
    while let Some(start) = rest.find(SENTINEL) {
        let after = &rest[start + 1..];
        let parsed = after.strip_prefix(SENTINEL_TAG).and_then(|tail| {
            let end = tail.find(SENTINEL)?;
            let id: u32 = tail[..end].parse().ok()?;
            Some((id, &tail[end + 1..]))
        });
        match parsed {
            Some((id, tail)) => {
                f(Piece::Text(&rest[..start]));
                f(Piece::Handle(NodeId(id)));
                rest = tail;
            }
            None => {
                f(Piece::Text(&rest[..=start]));
                rest = after;
            }
        }
    }
    f(Piece::Text(rest));
}

pub(crate) fn collect_handles(v: &Dynamic, out: &mut Vec<NodeId>) {
    if let Some(h) = v.read_lock::<Handle>() {
        out.push(h.id);
    } else if let Ok(arr) = v.as_array_ref() {
        arr.iter().for_each(|x| collect_handles(x, out));
    } else if let Ok(map) = v.as_map_ref() {
        map.values().for_each(|x| collect_handles(x, out));
    } else if let Ok(s) = v.as_immutable_string_ref() {
        if has_sentinel(&s) {
            split_sentinels(&s, |p| {
                if let Piece::Handle(id) = p {
                    out.push(id);
                }
            });
        }
    } else if let Some(fp) = v.read_lock::<FnPtr>() {
        fp.curry().iter().for_each(|x| collect_handles(x, out));
    }
}

/// How an interpolated value is written into a string.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quote {
    None,
    Shell,
}

pub(crate) fn substitute(v: &Dynamic, lookup: &dyn Fn(NodeId) -> Value, quote: Quote) -> Dynamic {
    if let Some(h) = v.read_lock::<Handle>() {
        return lookup(h.id).0;
    }
    if let Ok(arr) = v.as_array_ref() {
        return Dynamic::from_array(arr.iter().map(|x| substitute(x, lookup, quote)).collect());
    }
    if let Ok(map) = v.as_map_ref() {
        let m: Map = map
            .iter()
            .map(|(k, x)| (k.clone(), substitute(x, lookup, quote)))
            .collect();
        return Dynamic::from_map(m);
    }
    if let Ok(s) = v.as_immutable_string_ref() {
        if has_sentinel(&s) {
            let mut out = String::with_capacity(s.len());
            split_sentinels(&s, |p| match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Handle(id) => {
                    let text = display(&lookup(id).0);
                    match quote {
                        Quote::None => out.push_str(&text),
                        Quote::Shell => out.push_str(&shell_quote(&text)),
                    }
                }
            });
            return out.into();
        }
        return v.clone();
    }
    if let Some(fp) = v.read_lock::<FnPtr>() {
        if fp.curry().is_empty() {
            return v.clone();
        }
        let mut copy = fp.clone();
        let curried: Vec<Dynamic> = fp
            .curry()
            .iter()
            .map(|x| substitute(x, lookup, quote))
            .collect();
        copy.set_curry(curried);
        return Dynamic::from(copy);
    }
    v.clone()
}

/// How a value reads when interpolated into a string: strings bare, the rest as JSON.
pub(crate) fn display(v: &Dynamic) -> String {
    if let Ok(s) = v.as_immutable_string_ref() {
        return s.to_string();
    }
    if v.is_unit() {
        return String::new();
    }
    if v.is::<Secret>() {
        return super::secret::MARKED.to_owned();
    }
    to_json(v).to_string()
}

/// Quotes `s` for a POSIX shell, leaving plain words alone.
pub(crate) fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Checks that `v` is plain data; on failure names the offending path (`result.items[3]`).
/// A secret is not data: results are printed, cached and stored.
pub(crate) fn check_data(v: &Dynamic, path: &mut String) -> Result<(), String> {
    check_data_with(v, path, false)
}

/// [`check_data`], admitting secrets when `allow_secrets` (a worker's arguments).
pub(crate) fn check_data_with(
    v: &Dynamic,
    path: &mut String,
    allow_secrets: bool,
) -> Result<(), String> {
    if let Ok(arr) = v.as_array_ref() {
        for (i, x) in arr.iter().enumerate() {
            let len = path.len();
            let _ = write!(path, "[{i}]");
            check_data_with(x, path, allow_secrets)?;
            path.truncate(len);
        }
        return Ok(());
    }
    if let Ok(map) = v.as_map_ref() {
        for (k, x) in map.iter() {
            let len = path.len();
            let _ = write!(path, ".{k}");
            check_data_with(x, path, allow_secrets)?;
            path.truncate(len);
        }
        return Ok(());
    }
    match type_name(v) {
        "()" | "bool" | "int" | "float" | "string" | "char" | "blob" => Ok(()),
        SECRET_TYPE if allow_secrets => Ok(()),
        other => Err(format!("`{path}` is {other}, which is not data")),
    }
}

pub(crate) fn to_json(v: &Dynamic) -> serde_json::Value {
    use serde_json::Value as J;
    if v.is_unit() {
        J::Null
    } else if let Ok(b) = v.as_bool() {
        J::Bool(b)
    } else if let Ok(i) = v.as_int() {
        J::from(i)
    } else if let Ok(f) = v.as_float() {
        serde_json::Number::from_f64(f).map_or(J::Null, J::Number)
    } else if let Ok(s) = v.as_immutable_string_ref() {
        J::String(s.to_string())
    } else if let Ok(c) = v.as_char() {
        J::String(c.to_string())
    } else if let Ok(arr) = v.as_array_ref() {
        J::Array(arr.iter().map(to_json).collect())
    } else if let Ok(map) = v.as_map_ref() {
        J::Object(
            map.iter()
                .map(|(k, x)| (k.to_string(), to_json(x)))
                .collect(),
        )
    } else if let Ok(blob) = v.as_blob_ref() {
        J::Array(blob.iter().map(|b| J::from(*b)).collect())
    } else if let Some(h) = v.read_lock::<Handle>() {
        J::String(format!("<handle {}>", h.id.0))
    } else if v.is::<Secret>() {
        J::String(crate::redact::MASK.to_owned())
    } else {
        J::String(format!("<{}>", type_name(v)))
    }
}

pub(crate) fn json_to_dynamic(json: &serde_json::Value) -> Dynamic {
    use serde_json::Value as J;
    match json {
        J::Null => Dynamic::UNIT,
        J::Bool(b) => Dynamic::from_bool(*b),
        J::Number(n) => n.as_i64().map_or_else(
            || Dynamic::from_float(n.as_f64().unwrap_or(f64::NAN)),
            Dynamic::from_int,
        ),
        J::String(s) => s.clone().into(),
        J::Array(a) => Dynamic::from_array(a.iter().map(json_to_dynamic).collect::<Array>()),
        J::Object(o) => Dynamic::from_map(
            o.iter()
                .map(|(k, v)| (k.as_str().into(), json_to_dynamic(v)))
                .collect::<Map>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinels_round_trip_through_strings() {
        let h = Handle { id: NodeId(7) };
        let s: Dynamic = format!(
            "echo {} and {}",
            h.sentinel(),
            Handle { id: NodeId(9) }.sentinel()
        )
        .into();
        let mut ids = Vec::new();
        collect_handles(&s, &mut ids);
        assert_eq!(ids, vec![NodeId(7), NodeId(9)]);
        let lookup = |id: NodeId| {
            if id.0 == 7 {
                Value("it's".into())
            } else {
                Value::int(3)
            }
        };
        let out = substitute(&s, &lookup, Quote::Shell);
        assert_eq!(out.into_string().unwrap(), r"echo 'it'\''s' and 3");
    }

    #[test]
    fn check_data_names_the_path() {
        let mut inner = Map::new();
        inner.insert(
            "items".into(),
            Dynamic::from_array(vec![
                Dynamic::from_int(1),
                Dynamic::from(FnPtr::new("f").unwrap()),
            ]),
        );
        let mut path = "result".to_owned();
        let err = check_data(&Dynamic::from_map(inner), &mut path).unwrap_err();
        assert_eq!(
            err,
            "`result.items[1]` is function pointer, which is not data"
        );
    }

    #[test]
    fn shell_quote_leaves_plain_words() {
        assert_eq!(shell_quote("a/b.txt"), "a/b.txt");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote(""), "''");
    }
}
