//! The command line: one module per verb, each a thin layer over the library. Errors end as
//! one plain line on stderr that says what to do.

mod build;
mod down;
mod load;
mod server;
mod up;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "mkc",
    version,
    about = "A small, real Kubernetes cluster out of Docker containers, in seconds"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a cluster of Docker containers and make it kubectl's current context.
    Up(up::Args),
    /// Remove a cluster and its kubeconfig entries.
    Down(down::Args),
    /// Copy images from this machine's Docker into every node of a cluster.
    Load(load::Args),
    /// Build the node image.
    Build(build::Args),
    /// Run the API server alone (with the store it keeps in its data directory).
    Server(server::Args),
}

/// Parses the command line, runs the command, and turns its error into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(&anyhow::anyhow!("cannot start the async runtime: {err}")),
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Up(args) => up::run(args).await,
            Command::Down(args) => down::run(args).await,
            Command::Load(args) => load::run(args).await,
            Command::Build(args) => build::run(args).await,
            Command::Server(args) => server::run(args).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}

fn fail(err: &anyhow::Error) -> ExitCode {
    eprintln!("error: {err:#}");
    ExitCode::FAILURE
}

fn parse_cluster_name(text: &str) -> Result<crate::cluster::ClusterName, String> {
    crate::cluster::ClusterName::parse(text).map_err(|e| e.to_string())
}

/// Reads a duration such as `500ms`, `6s`, `2m` or `1h` (plain numbers are seconds).
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 40s or 2m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("{text:?} is not a duration like 40s or 2m")),
    };
    std::time::Duration::try_from_secs_f64(seconds)
        .map_err(|_| format!("{text:?} is longer than any duration mkc can wait"))
}

/// Logs go to stderr, at `info` unless `RUST_LOG` says otherwise.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    mkc_supervisor::install_panic_hook();
}

/// Listens for SIGINT and SIGTERM from the moment it is called, so a signal sent as soon as
/// the ready line is out is not lost; the future resolves at the first of them.
fn stop_signal() -> anyhow::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_read_with_their_units() {
        assert_eq!(parse_duration("6s"), Ok(Duration::from_secs(6)));
        assert_eq!(parse_duration("40"), Ok(Duration::from_secs(40)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("99999999999999999999999h").is_err());
    }
}
