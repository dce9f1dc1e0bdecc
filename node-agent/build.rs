//! Builds the pause program (`pause/pause.rs`), the one binary of the pod sandbox image, with
//! the same compiler as the agent: no standard library and no libc, linked statically, so the
//! image needs no base. The agent embeds the binary and imports the image into the engine.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let source = "pause/pause.rs";
    println!("cargo::rerun-if-changed={source}");
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let target = env::var("TARGET").expect("cargo sets TARGET for build scripts");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let status = Command::new(rustc)
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "bin",
            "--target",
            &target,
        ])
        .args([
            "-C",
            "panic=abort",
            "-C",
            "opt-level=s",
            "-C",
            "strip=symbols",
        ])
        .args(["-C", "relocation-model=static"])
        .args(["-C", "link-arg=-nostartfiles", "-C", "link-arg=-static"])
        .arg("-o")
        .arg(out.join("pause"))
        .arg(source)
        .status()
        .expect("running rustc for the pause program");
    assert!(status.success(), "compiling {source} failed");
}
