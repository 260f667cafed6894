//! The `Test` builder: a fresh temp directory, flow files written into it, the `autowf` binary
//! run there with a cleared environment, and assertions on exit code, stdout and stderr.
