//! The node's own networking tools (`ip`, `iptables`, `iptables-restore`), run as child
//! processes off the async threads. Pod routes and Service rules both use them; the tools
//! are quick and local, so there is no timeout beyond their own `-w` lock waits.

use std::io::Write;
use std::process::{Command, Stdio};

/// A tool that could not be run, or that failed.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: &'static str,
        source: std::io::Error,
    },
    #[error("`{command}` failed: {stderr}")]
    Failed { command: String, stderr: String },
}

/// Runs `program` with `args`, feeding it `input` on standard input when given, and returns
/// what it printed.
pub async fn run(
    program: &'static str,
    args: &[&str],
    input: Option<String>,
) -> Result<String, HostError> {
    let mut process = Command::new(program);
    process
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let spawned = move || {
        let mut child = process.spawn()?;
        if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(input.as_bytes())?;
        }
        child.wait_with_output()
    };
    let output = tokio::task::spawn_blocking(spawned)
        .await
        .map_err(std::io::Error::other)
        .and_then(|output| output)
        .map_err(|source| HostError::Spawn { program, source })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(HostError::Failed {
            command: format!("{program} {}", args.join(" ")),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

/// Adds an iptables rule at the head of `chain` unless the same rule is already there, so
/// applying twice adds nothing.
pub async fn ensure_rule(table: &str, chain: &str, rule: &[&str]) -> Result<(), HostError> {
    let mut check = vec!["-w", "-t", table, "-C", chain];
    check.extend(rule);
    if run("iptables", &check, None).await.is_ok() {
        return Ok(());
    }
    let mut insert = vec!["-w", "-t", table, "-I", chain, "1"];
    insert.extend(rule);
    run("iptables", &insert, None).await.map(drop)
}
