//! A node's cache key parts: the script side of the cache (code, arguments, captured values,
//! the `cache_key` closure), plus the options and input files that change a result.

use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};

use rhai::{Dynamic, FnPtr};

use super::fingerprint::Fingerprints;
use super::options::{EnvValue, OutputFormat};
use super::payload::PayloadKind;
use super::running;
use super::runtime::{Attempt, Runtime};
use super::value::{self, Quote, Value, substitute};
use crate::cache::{self, KeyHasher, KeyParts, PartSink, SharedParts};
use crate::dag::{Node, NodeId};
use crate::events::TaskError;
use crate::secrets::Secret;

impl Runtime {
    fn fingerprints(&self) -> &Fingerprints {
        self.prints.get_or_init(|| Fingerprints::new(&self.ast))
    }

    /// The parts every node of `task` starts its key with: the versions, the task's name, and
    /// the code of the task and of every function it reaches. Made once per task.
    fn task_parts(&self, task: &str) -> Arc<SharedParts> {
        let known = self
            .task_parts
            .read()
            .ok()
            .and_then(|m| m.get(task).cloned());
        if let Some(parts) = known {
            return parts;
        }
        let mut list = vec![
            ("version".to_owned(), cache::version_digest().to_owned()),
            (
                "task".to_owned(),
                blake3::hash(task.as_bytes()).to_hex().to_string(),
            ),
        ];
        for print in self.fingerprints().of_task(task).iter() {
            list.push((format!("code:{}", print.function), print.digest.clone()));
        }
        let parts = Arc::new(SharedParts::new(list));
        if let Ok(mut m) = self.task_parts.write() {
            m.insert(task.to_owned(), parts.clone());
        }
        parts
    }

    /// The key secrets are hashed with, once a secret exists in this process (before that no
    /// value can hold one, and the state directory is left alone).
    fn secret_key(&self) -> Result<Option<[u8; 32]>, TaskError> {
        if !crate::secrets::any_resolved() {
            return Ok(None);
        }
        self.secret_key
            .get_or_init(|| {
                crate::state::secret_key::load_or_create(&self.info.state_dir).map_err(|e| {
                    format!(
                        "cannot read or create `{}`: {e}",
                        self.info.state_dir.join("secret-key").display()
                    )
                })
            })
            .clone()
            .map(Some)
            .map_err(|why| TaskError::new(format!("cannot hash a secret for a cache key: {why}")))
    }

    /// The parts of a cached `node`'s key with its inputs resolved, kept by name so that a
    /// miss can be explained. Arguments that are not data are refused: they would hash by
    /// type name alone.
    pub(crate) fn key_parts(
        &self,
        node: &Node,
        inputs: &dyn Fn(NodeId) -> Value,
        attempt: &Attempt,
    ) -> Result<KeyParts, TaskError> {
        let mut parts = KeyParts::default();
        self.feed_key(node, inputs, attempt, true, &mut parts)?;
        Ok(parts)
    }

    /// The key of any task or command node, for the journal and `--resume`: the same key
    /// [`Self::key_parts`] gives, hashed as it is made. `None` when it cannot be made (a
    /// `cache_key` closure that fails, an unreadable input).
    pub(crate) fn node_key(
        &self,
        node: &Node,
        inputs: &dyn Fn(NodeId) -> Value,
        attempt: &Attempt,
    ) -> Option<Arc<str>> {
        let mut hasher = KeyHasher::default();
        self.feed_key(node, inputs, attempt, false, &mut hasher)
            .ok()?;
        Some(hasher.key())
    }

    fn feed_key(
        &self,
        node: &Node,
        inputs: &dyn Fn(NodeId) -> Value,
        attempt: &Attempt,
        strict: bool,
        sink: &mut dyn PartSink,
    ) -> Result<(), TaskError> {
        let key = self.secret_key()?;
        let key = key.as_ref();
        let task_name = node.task.as_deref().unwrap_or("sh");
        let mut id = String::new();
        match &*node.payload.0 {
            PayloadKind::Call { task, args } => {
                sink.shared(&self.task_parts(task));
                let args: Vec<Dynamic> = args
                    .iter()
                    .map(|a| substitute(a, inputs, Quote::None))
                    .collect();
                for (i, arg) in args.iter().enumerate() {
                    let mut h = blake3::Hasher::new();
                    hash_value(&mut h, arg, strict, key)
                        .map_err(|why| not_data(task_name, &format!("argument {} {why}", i + 1)))?;
                    id.clear();
                    let _ = write!(id, "arg:{}", i + 1);
                    sink.part(&id, h.finalize().to_hex().as_str());
                }
                if let Some(f) = &node.options.cache_key {
                    self.closure_parts(&f.0, args, attempt, task_name, key, sink)?;
                }
            }
            PayloadKind::Sh { command } => {
                sink.part("version", cache::version_digest());
                let text = value::display(&substitute(command, inputs, Quote::Shell));
                sink.part("command", blake3::hash(text.as_bytes()).to_hex().as_str());
            }
            _ => return Err(TaskError::new("internal error: this node has no cache key")),
        }
        let o = &node.options;
        if o.env.is_empty() && o.cwd.is_none() && o.output == OutputFormat::Text {
            // Most nodes: the digest of the default options, made once.
            static DEFAULT: LazyLock<String> =
                LazyLock::new(|| options_digest(&[], None, OutputFormat::Text));
            sink.part("options", &DEFAULT);
        } else {
            // A secret in `env` enters by its keyed hash, never as text.
            let env: Vec<(&String, String)> = o
                .env
                .iter()
                .map(|(k, v)| match v {
                    EnvValue::Text(t) => Ok((k, format!("{t:?}"))),
                    EnvValue::Secret(s) => keyed(key, s).map(|d| (k, format!("secret:{d}"))),
                })
                .collect::<Result<_, _>>()
                .map_err(|why| not_data(task_name, &format!("the `env` option {why}")))?;
            sink.part("options", &options_digest(&env, o.cwd.as_deref(), o.output));
        }
        if !o.inputs.is_empty() {
            let files = cache::hash_inputs(&o.inputs, &self.info.flow_dir).map_err(|why| {
                TaskError::new(format!(
                    "cannot compute the cache key of `{}`: {why}",
                    node.name
                ))
            })?;
            for f in files {
                sink.part(&f.id, &f.digest);
            }
        }
        Ok(())
    }

    /// The `cache_key` closure: what it captures and what it returns for the arguments.
    fn closure_parts(
        &self,
        f: &FnPtr,
        args: Vec<Dynamic>,
        attempt: &Attempt,
        task: &str,
        key: Option<&[u8; 32]>,
        sink: &mut dyn PartSink,
    ) -> Result<(), TaskError> {
        let mut captured = blake3::Hasher::new();
        for v in f.iter_curry() {
            hash_value(&mut captured, &v.flatten_clone(), true, key).map_err(|why| {
                not_data(
                    task,
                    &format!("a value the `cache_key` closure captures {why}"),
                )
            })?;
        }
        sink.part("captures", captured.finalize().to_hex().as_str());
        let previous = running::enter(running::Current::new(attempt, self.info.clone()));
        let result = f.call::<Dynamic>(&self.run_engine, &self.ast, args);
        running::leave(previous);
        let v = result.map_err(|e| {
            let mut err = super::diagnostics::task_error(&e, &self.cx.file);
            err.message = format!(
                "the `cache_key` closure of `{task}` failed: {}",
                err.message
            );
            err
        })?;
        let mut h = blake3::Hasher::new();
        hash_value(&mut h, &v, true, key)
            .map_err(|why| not_data(task, &format!("the `cache_key` closure's result {why}")))?;
        sink.part("cache_key", h.finalize().to_hex().as_str());
        Ok(())
    }
}

/// The options that change a result: `env` (secrets already replaced by keyed hashes),
/// `cwd` and `output`.
fn options_digest(env: &[(&String, String)], cwd: Option<&str>, output: OutputFormat) -> String {
    let text = format!("{env:?}|{cwd:?}|{output:?}");
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

fn not_data(task: &str, what: &str) -> TaskError {
    let mut e = TaskError::new(format!("cannot compute the cache key of `{task}`: {what}"));
    e.help = Some("only data (numbers, strings, booleans, arrays, maps, blobs, ()) can be part of a cache key".into());
    e
}

/// The digest of a value, by type and content (map keys in order, floats by their bits).
#[cfg(test)]
fn value_digest(v: &Dynamic, strict: bool, key: Option<&[u8; 32]>) -> Result<String, String> {
    let mut h = blake3::Hasher::new();
    hash_value(&mut h, v, strict, key)?;
    Ok(h.finalize().to_hex().to_string())
}

/// A secret's keyed hash (blake3 keyed mode): equal for equal values under one state
/// directory, and no use for checking a guess without the key.
fn keyed(key: Option<&[u8; 32]>, s: &Secret) -> Result<String, String> {
    let key = key.ok_or_else(|| "holds a secret, but no key was read for it".to_owned())?;
    Ok(blake3::keyed_hash(key, s.reveal().as_bytes())
        .to_hex()
        .to_string())
}

/// Feeds `v` to `h` with a type tag and lengths, so different values never feed the same
/// bytes. Without `strict`, a value that is not data feeds its type name. A secret feeds its
/// keyed hash, never its text.
fn hash_value(
    h: &mut blake3::Hasher,
    v: &Dynamic,
    strict: bool,
    key: Option<&[u8; 32]>,
) -> Result<(), String> {
    let bytes = |h: &mut blake3::Hasher, tag: u8, b: &[u8]| {
        h.update(&[tag]);
        h.update(&(b.len() as u64).to_le_bytes());
        h.update(b);
    };
    if v.is_unit() {
        h.update(&[0]);
    } else if let Ok(b) = v.as_bool() {
        h.update(&[1, u8::from(b)]);
    } else if let Ok(i) = v.as_int() {
        bytes(h, 2, &i.to_le_bytes());
    } else if let Ok(f) = v.as_float() {
        bytes(h, 3, &f.to_bits().to_le_bytes());
    } else if let Ok(s) = v.as_immutable_string_ref() {
        bytes(h, 4, s.as_bytes());
    } else if let Ok(c) = v.as_char() {
        bytes(h, 4, c.to_string().as_bytes());
    } else if let Ok(arr) = v.as_array_ref() {
        bytes(h, 6, &(arr.len() as u64).to_le_bytes());
        for x in arr.iter() {
            hash_value(h, x, strict, key)?;
        }
    } else if let Ok(map) = v.as_map_ref() {
        bytes(h, 7, &(map.len() as u64).to_le_bytes());
        for (k, x) in map.iter() {
            bytes(h, 4, k.as_bytes());
            hash_value(h, x, strict, key)?;
        }
    } else if let Ok(blob) = v.as_blob_ref() {
        bytes(h, 8, &blob);
    } else if let Some(s) = v.read_lock::<Secret>() {
        bytes(h, 10, keyed(key, &s)?.as_bytes());
    } else if strict {
        return Err(format!("is {}, which is not data", value::type_name(v)));
    } else {
        bytes(h, 9, value::type_name(v).as_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: impl Into<Dynamic>) -> String {
        value_digest(&v.into(), true, None).unwrap()
    }

    #[test]
    fn values_of_different_types_or_shapes_never_share_a_digest() {
        let all = [
            d(()),
            d(true),
            d(1_i64),
            d(1.0_f64),
            d("1"),
            d(Dynamic::from_array(vec![Dynamic::from_int(1)])),
            d(Dynamic::from_blob(vec![1_u8])),
            d(Dynamic::from_array(vec!["a".into(), "b".into()])),
            d(Dynamic::from_array(vec!["ab".into()])),
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn maps_hash_by_content_not_insertion_order() {
        let mut a = rhai::Map::new();
        a.insert("x".into(), 1_i64.into());
        a.insert("y".into(), 2_i64.into());
        let mut b = rhai::Map::new();
        b.insert("y".into(), 2_i64.into());
        b.insert("x".into(), 1_i64.into());
        assert_eq!(d(a), d(b));
    }

    #[test]
    fn a_function_pointer_is_refused_in_strict_mode_only() {
        let f = Dynamic::from(FnPtr::new("f").unwrap());
        assert!(
            value_digest(&f, true, None)
                .unwrap_err()
                .contains("not data")
        );
        assert!(value_digest(&f, false, None).is_ok());
    }

    #[test]
    fn a_secret_feeds_its_keyed_hash_only() {
        let secret = Dynamic::from(crate::secrets::adopt("KEYED_TEST", "keyed-test-value"));
        let k1 = [1_u8; 32];
        let k2 = [2_u8; 32];
        let a = value_digest(&secret, true, Some(&k1)).unwrap();
        assert_eq!(a, value_digest(&secret, true, Some(&k1)).unwrap());
        assert_ne!(a, value_digest(&secret, true, Some(&k2)).unwrap());
        assert_ne!(a, d("keyed-test-value"));
        let other = Dynamic::from(crate::secrets::adopt("KEYED_TEST2", "another-value"));
        assert_ne!(a, value_digest(&other, true, Some(&k1)).unwrap());
        assert!(value_digest(&secret, true, None).is_err());
    }
}
