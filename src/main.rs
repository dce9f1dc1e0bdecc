//! The `mkc` command.

fn main() -> std::process::ExitCode {
    mkc::cli::main()
}
