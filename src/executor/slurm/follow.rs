//! Following a job's error file while the job runs: Slurm appends to it on the shared
//! filesystem, so its lines reach the task log and the console (`-v`) as they come, as a
//! local command's stderr does, rather than all at once when the job ends.

use std::io::SeekFrom;
use std::path::PathBuf;

use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use crate::executor::process::StderrTail;

/// How much of a file one read takes at most: a job that floods its error file is followed
/// in steps, not read whole into memory between two polls.
const CHUNK: usize = 1 << 20;

/// Reads the lines appended to one job's error file.
pub(super) struct Follower {
    path: PathBuf,
    /// How far the file has been read.
    offset: u64,
    /// The start of a line whose end has not been written yet.
    partial: Vec<u8>,
    tail: StderrTail,
}

impl Follower {
    /// Follows `path`, the error file of a job of node `label` (empty for a worker's job,
    /// whose lines carry their node's name).
    pub(super) fn new(path: PathBuf, label: &str) -> Self {
        Self {
            path,
            offset: 0,
            partial: Vec::new(),
            tail: StderrTail::new(label.to_owned()),
        }
    }

    /// Forwards the complete lines written since the last call. A file that does not exist
    /// yet (the job is still queued) has none.
    pub(super) async fn read_new(&mut self) {
        let Ok(mut file) = tokio::fs::File::open(&self.path).await else {
            return;
        };
        if file.seek(SeekFrom::Start(self.offset)).await.is_err() {
            return;
        }
        let mut chunk = Vec::new();
        loop {
            chunk.clear();
            let read = (&mut file).take(CHUNK as u64).read_to_end(&mut chunk).await;
            match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    self.offset += n as u64;
                    self.take_lines(&chunk);
                }
            }
        }
    }

    /// Forwards what is left, an unfinished last line included; the last lines, for a
    /// failure message.
    pub(super) async fn finish(mut self) -> String {
        self.read_new().await;
        if !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            self.tail.push(String::from_utf8_lossy(&rest).into_owned());
        }
        self.tail.into_text()
    }

    fn take_lines(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return;
        };
        let complete: Vec<u8> = self.partial.drain(..=end).collect();
        for line in complete[..end].split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.tail.push(String::from_utf8_lossy(line).into_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_forwarded_as_they_are_completed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.err");
        let mut follower = Follower::new(path.clone(), "node");
        // Not there yet: a queued job.
        follower.read_new().await;
        std::fs::write(&path, "one\ntw").unwrap();
        follower.read_new().await;
        assert_eq!(follower.partial, b"tw");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut file, b"o\r\nthree\nunfinished").unwrap();
        follower.read_new().await;
        assert_eq!(follower.partial, b"unfinished");
        assert_eq!(follower.finish().await, "one\ntwo\nthree\nunfinished");
    }

    #[tokio::test]
    async fn a_large_file_is_read_in_chunks_without_losing_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.err");
        let line = "x".repeat(999);
        let text: String = (0..3000).map(|_| format!("{line}\n")).collect();
        std::fs::write(&path, &text).unwrap();
        let mut follower = Follower::new(path, "node");
        follower.read_new().await;
        assert_eq!(follower.offset, text.len() as u64);
        assert!(follower.partial.is_empty());
        // The tail keeps the last lines, each whole across the chunk boundaries.
        let tail = follower.finish().await;
        assert!(!tail.is_empty());
        assert!(tail.lines().all(|l| l == line), "{}", &tail[..80]);
    }
}
