//! The `autowf` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    autowf::run(std::env::args_os())
}
