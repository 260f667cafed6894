//! The remote store: where the result cache and artifact blobs live when several hosts share
//! them (`remote-store = "s3://bucket/prefix"`). Runs, journals, manifests and locks always
//! stay in the local state directory.
//!
//! The URL is parsed in every build, so that a binary built without the `s3` feature can say
//! why it refuses one; only the `s3` feature can make a [`RemoteUrl`] and talk to a store.

#[cfg(feature = "s3")]
mod s3;

#[cfg(feature = "s3")]
pub(crate) use s3::{Remote, WriteOutcome};

/// A parsed `s3://bucket/prefix` setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RemoteUrl {
    bucket: String,
    /// Without leading or trailing `/`; empty for the bucket's root.
    prefix: String,
    /// A build without the `s3` feature cannot hold a remote store (see [`RemoteUrl::parse`]).
    #[cfg(not(feature = "s3"))]
    never: std::convert::Infallible,
}

impl RemoteUrl {
    /// Parses and checks a `remote-store` setting. A build without the `s3` feature refuses
    /// every URL, saying so.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let (bucket, prefix) = parse_s3_url(text)?;
        #[cfg(feature = "s3")]
        {
            Ok(Self { bucket, prefix })
        }
        #[cfg(not(feature = "s3"))]
        {
            let _ = (bucket, prefix);
            Err(format!(
                "remote store `{text}` needs the `s3` feature, and this autowf was built \
                 without it (build with `cargo build --features s3`)"
            ))
        }
    }

    #[cfg(feature = "s3")]
    pub(crate) fn bucket(&self) -> &str {
        &self.bucket
    }

    #[cfg(feature = "s3")]
    /// The object path of `rel` (`cache/v1/entries/ab/ab12…`) below the prefix.
    pub(crate) fn object_path(&self, rel: &str) -> String {
        if self.prefix.is_empty() {
            rel.to_owned()
        } else {
            format!("{}/{rel}", self.prefix)
        }
    }

    #[cfg(feature = "s3")]
    /// The store `rel` is in, as a URL for messages: `s3://bucket/prefix/rel`.
    pub(crate) fn url_of(&self, rel: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.object_path(rel))
    }

    /// A build without the `s3` feature never gets here: no [`RemoteUrl`] exists in it.
    #[cfg(not(feature = "s3"))]
    pub(crate) fn unreachable(&self) -> ! {
        match self.never {}
    }
}

impl std::fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// Whether a setting names a remote store rather than a local path (`--state-dir` refuses
/// one).
pub(crate) fn looks_remote(text: &str) -> bool {
    text.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

/// `s3://bucket/prefix` as its bucket and its prefix (slashes trimmed).
fn parse_s3_url(text: &str) -> Result<(String, String), String> {
    let Some(rest) = text.strip_prefix("s3://") else {
        return Err(match text.split_once("://") {
            Some((scheme, _)) => format!(
                "remote store `{text}`: `{scheme}://` is not supported; give an `s3://bucket/prefix` URL"
            ),
            None => format!("remote store `{text}` is not a URL; give `s3://bucket/prefix`"),
        });
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !bucket.starts_with(['.', '-'])
        && !bucket.ends_with(['.', '-']);
    if !valid_bucket {
        return Err(format!(
            "remote store `{text}`: `{bucket}` is not a bucket name (3 to 63 lowercase letters, \
             digits, `.` and `-`)"
        ));
    }
    let prefix = prefix.trim_matches('/');
    let bad_segment = prefix
        .split('/')
        .find(|s| !prefix.is_empty() && (s.is_empty() || *s == "." || *s == ".."));
    if let Some(segment) = bad_segment {
        return Err(format!(
            "remote store `{text}`: the prefix has an empty, `.` or `..` part (`{segment}`)"
        ));
    }
    Ok((bucket.to_owned(), prefix.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> (String, String) {
        parse_s3_url(text).unwrap()
    }

    #[test]
    fn an_s3_url_gives_its_bucket_and_trimmed_prefix() {
        assert_eq!(ok("s3://team-cache"), ("team-cache".into(), String::new()));
        assert_eq!(ok("s3://team-cache/"), ("team-cache".into(), String::new()));
        assert_eq!(
            ok("s3://team.cache/autowf/prod/"),
            ("team.cache".into(), "autowf/prod".into())
        );
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        let err = |t: &str| parse_s3_url(t).unwrap_err();
        assert_eq!(
            err("gs://b/p"),
            "remote store `gs://b/p`: `gs://` is not supported; give an `s3://bucket/prefix` URL"
        );
        assert_eq!(
            err("/srv/cache"),
            "remote store `/srv/cache` is not a URL; give `s3://bucket/prefix`"
        );
        assert!(err("s3://").contains("is not a bucket name"));
        assert!(err("s3://Upper/x").contains("`Upper` is not a bucket name"));
        assert!(err("s3://ab/x").contains("is not a bucket name"));
        assert!(err("s3://bucket/a//b").contains("empty, `.` or `..` part"));
        assert!(err("s3://bucket/a/../b").contains("(`..`)"));
    }

    #[test]
    fn only_urls_look_remote() {
        assert!(looks_remote("s3://b/p"));
        assert!(looks_remote("gs://b"));
        assert!(!looks_remote("/srv/state"));
        assert!(!looks_remote("relative/dir"));
        assert!(!looks_remote("://x"));
    }

    #[cfg(not(feature = "s3"))]
    #[test]
    fn without_the_feature_every_url_is_refused_naming_it() {
        let err = RemoteUrl::parse("s3://bucket/prefix").unwrap_err();
        assert!(err.contains("built without it"), "{err}");
        assert!(err.contains("`s3` feature"), "{err}");
    }

    #[cfg(feature = "s3")]
    #[test]
    fn object_paths_sit_below_the_prefix() {
        let url = RemoteUrl::parse("s3://bucket/team/").unwrap();
        assert_eq!(url.to_string(), "s3://bucket/team");
        assert_eq!(url.object_path("cache/v1/x"), "team/cache/v1/x");
        assert_eq!(url.url_of("a"), "s3://bucket/team/a");
        let root = RemoteUrl::parse("s3://bucket").unwrap();
        assert_eq!(root.object_path("a/b"), "a/b");
    }
}
