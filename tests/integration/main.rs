//! Integration tests: each module runs the real `autowf` binary on real flow files.

mod support;
