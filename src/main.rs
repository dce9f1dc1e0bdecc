//! The `mkc` command.

/// mimalloc keeps allocation fast and memory compact across the many threads of a busy
/// server, where the system allocator spends a quarter of the time and grows an arena each.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    mkc::cli::main()
}
