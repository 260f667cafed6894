//! The one place that hides secret values: every sink (console, logs, task output, log files,
//! reports, error messages) passes its text through [`text`] or [`bytes`], or writes through a
//! [`LineWriter`].
//!
//! A value is registered when a secret is resolved, in the run's process or a worker. Each
//! value is searched for as it is and in its common encodings (see [`encodings`]); every match
//! becomes `***`. Until the first value is registered, redaction is one atomic load.

use std::borrow::Cow;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// What a secret's value (or an encoding of it) is replaced with.
pub(crate) const MASK: &str = "***";

/// Whether any value was registered in this process.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// The process-wide redactor; replaced (rarely) when a value is registered.
static GLOBAL: RwLock<Option<Arc<Redactor>>> = RwLock::new(None);

/// Registers a secret's value: from now on it is hidden everywhere in this process.
pub(crate) fn register(value: &str) {
    let mut global = GLOBAL.write().unwrap_or_else(PoisonError::into_inner);
    let mut values = global
        .as_ref()
        .map(|r| r.values.clone())
        .unwrap_or_default();
    if values.iter().any(|v| v == value) {
        return;
    }
    values.push(value.to_owned());
    *global = Some(Arc::new(Redactor::new(values)));
    ACTIVE.store(true, Ordering::Release);
}

/// Whether any value was registered in this process.
pub(crate) fn is_active() -> bool {
    ACTIVE.load(Ordering::Acquire)
}

fn current() -> Option<Arc<Redactor>> {
    if !ACTIVE.load(Ordering::Acquire) {
        return None;
    }
    GLOBAL
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// `s` with every registered value (and its encodings) replaced by `***`. Borrowed, at the
/// cost of one atomic load, when no secret was resolved or none occurs.
pub(crate) fn text(s: &str) -> Cow<'_, str> {
    match current() {
        Some(r) => r.text(s),
        None => Cow::Borrowed(s),
    }
}

/// [`text`] for bytes (a command's output, a file).
pub(crate) fn bytes(b: &[u8]) -> Cow<'_, [u8]> {
    match current() {
        Some(r) => r.bytes(b),
        None => Cow::Borrowed(b),
    }
}

/// Whether `b` holds a registered value or one of its encodings.
pub(crate) fn contains_secret(b: &[u8]) -> bool {
    current().is_some_and(|r| r.ac.is_match(b))
}

/// A set of secret values and the automaton that finds them and their encodings.
#[derive(Debug)]
pub(crate) struct Redactor {
    values: Vec<String>,
    ac: AhoCorasick,
}

impl Redactor {
    pub(crate) fn new(values: Vec<String>) -> Self {
        let mut patterns: Vec<Vec<u8>> = values.iter().flat_map(|v| encodings(v)).collect();
        patterns.sort();
        patterns.dedup();
        // Standard semantics, because overlapping matches are merged below: with two secrets
        // that overlap in the text, both are hidden whole.
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .expect("invariant: a few hundred short patterns build an automaton");
        Self { values, ac }
    }

    pub(crate) fn text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        match self.bytes(s.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(s),
            // Every pattern is UTF-8 (the value, its JSON form) or ASCII, so a match never
            // splits a character; the lossy conversion only guards that invariant.
            Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
        }
    }

    pub(crate) fn bytes<'a>(&self, b: &'a [u8]) -> Cow<'a, [u8]> {
        let mut found: Vec<(usize, usize)> = self
            .ac
            .find_overlapping_iter(b)
            .map(|m| (m.start(), m.end()))
            .collect();
        if found.is_empty() {
            return Cow::Borrowed(b);
        }
        found.sort_unstable();
        let mut out = Vec::with_capacity(b.len());
        let mut at = 0;
        let mut spans = found.into_iter().peekable();
        while let Some((start, mut end)) = spans.next() {
            // Overlapping or touching matches become one mask.
            while let Some(&(next_start, next_end)) = spans.peek() {
                if next_start > end {
                    break;
                }
                end = end.max(next_end);
                spans.next();
            }
            out.extend_from_slice(&b[at..start]);
            out.extend_from_slice(MASK.as_bytes());
            at = end;
        }
        out.extend_from_slice(&b[at..]);
        Cow::Owned(out)
    }
}

/// What is searched for a value: the value itself; as it reads inside a JSON string; percent
/// (URL) encoded; base64 in the standard and URL-safe alphabets, with and without padding, of
/// the value alone; and the characters of its base64 that do not depend on what surrounds it
/// when it sits at any of the three byte alignments inside a longer encoded stream.
pub(crate) fn encodings(value: &str) -> Vec<Vec<u8>> {
    let raw = value.as_bytes();
    let mut out = vec![raw.to_vec()];
    let json = serde_json::to_string(value).expect("invariant: strings serialize");
    out.push(json.as_bytes()[1..json.len() - 1].to_vec());
    out.push(percent_encode(raw).into_bytes());
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        out.push(engine.encode(raw).into_bytes());
    }
    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        for lead in 0..3 {
            if let Some(core) = aligned_core(engine, raw, lead) {
                out.push(core);
            }
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

/// The base64 characters that encode only bits of `raw` when `lead` bytes precede it.
fn aligned_core(
    engine: &base64::engine::GeneralPurpose,
    raw: &[u8],
    lead: usize,
) -> Option<Vec<u8>> {
    let mut padded = vec![0_u8; lead];
    padded.extend_from_slice(raw);
    let encoded = engine.encode(&padded).into_bytes();
    let first = (8 * lead).div_ceil(6);
    let last = (8 * (lead + raw.len())) / 6;
    // Too short a core would match ordinary text.
    (last > first + 3).then(|| encoded[first..last].to_vec())
}

/// RFC 3986 percent-encoding: everything but unreserved characters.
fn percent_encode(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len() * 3);
    for &b in raw {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A writer that redacts whole lines: it keeps what follows the last newline until the next
/// write completes it (or until a flush), so a value split across two writes is still found.
pub(crate) struct LineWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> LineWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self {
            inner,
            pending: Vec::new(),
        }
    }
}

impl<W: Write> Write for LineWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() && !ACTIVE.load(Ordering::Acquire) {
            self.inner.write_all(buf)?;
            return Ok(buf.len());
        }
        self.pending.extend_from_slice(buf);
        if let Some(end) = self.pending.iter().rposition(|&b| b == b'\n') {
            let rest = self.pending.split_off(end + 1);
            let lines = std::mem::replace(&mut self.pending, rest);
            self.inner.write_all(&bytes(&lines))?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.inner.write_all(&bytes(&rest))?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for LineWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "canary-0f3a9c";

    fn r(values: &[&str]) -> Redactor {
        Redactor::new(values.iter().map(|v| (*v).to_owned()).collect())
    }

    fn hidden(red: &Redactor, s: &str) -> String {
        red.text(s).into_owned()
    }

    #[test]
    fn plain_values_are_masked_and_other_text_is_borrowed() {
        let red = r(&[CANARY]);
        assert_eq!(
            hidden(&red, &format!("token={CANARY}; again {CANARY}")),
            "token=***; again ***"
        );
        assert!(matches!(red.text("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn encodings_of_a_value_are_masked() {
        let value = "p@ss w\"rd/é+";
        let red = r(&[value]);
        let json = serde_json::to_string(&serde_json::json!({ "v": value })).unwrap();
        assert_eq!(hidden(&red, &json), r#"{"v":"***"}"#);
        assert_eq!(hidden(&red, "u=p%40ss%20w%22rd%2F%C3%A9%2B&x"), "u=***&x");
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            let b64 = engine.encode(value);
            assert_eq!(hidden(&red, &format!("[{b64}]")), "[***]", "{b64}");
        }
    }

    #[test]
    fn base64_inside_a_longer_stream_is_masked_at_every_alignment() {
        let red = r(&[CANARY]);
        for prefix in ["", "a", "ab", "abc", "abcd"] {
            let stream = STANDARD.encode(format!("{prefix}{CANARY}and more text"));
            let out = hidden(&red, &stream);
            assert!(out.contains(MASK), "{prefix:?}: {stream} -> {out}");
            let plain_core = &STANDARD.encode(CANARY)[1..12];
            assert!(!out.contains(plain_core), "{out}");
        }
    }

    #[test]
    fn overlapping_secrets_are_both_hidden_whole() {
        let red = r(&["abcdefgh", "efghijkl"]);
        assert_eq!(hidden(&red, "<abcdefghijkl>"), "<***>");
        let red = r(&["secret-one", "secret-one-two"]);
        assert_eq!(hidden(&red, "x secret-one-two y"), "x *** y");
        assert_eq!(hidden(&red, "secret-onesecret-one"), "***");
    }

    #[test]
    fn the_line_writer_holds_a_partial_line_until_it_is_complete() {
        register("line-writer-secret");
        let mut out = Vec::new();
        {
            let mut w = LineWriter::new(&mut out);
            w.write_all(b"first line-writer-").unwrap();
            w.write_all(b"secret\nsecond line-wr").unwrap();
            w.write_all(b"iter-secret").unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "first ***\nsecond ***");
    }
}
