//! rkctl: drives an rk cluster the way kubectl drives Kubernetes.

mod commands;
mod config;
mod errors;
mod kinds;
mod manifests;
mod output;
mod print;

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "rkctl", version, about = "Command-line tool for rk clusters, modelled on kubectl")]
pub struct Cli {
    /// apiserver address (host:port).
    #[arg(long, global = true, env = "RK_SERVER")]
    server: Option<String>,
    /// Namespace for namespaced kinds.
    #[arg(short = 'n', long, global = true)]
    namespace: Option<String>,
    /// List across all namespaces.
    #[arg(short = 'A', long, global = true)]
    all_namespaces: bool,
    /// Where `cluster up` keeps data, logs and the client config.
    #[arg(long, global = true)]
    state_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: commands::Command,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if let Some(exited) = error.downcast_ref::<commands::CommandExited>() {
                eprintln!("{exited}");
                return exited.exit_code();
            }
            match error.downcast_ref::<errors::ServerError>() {
                Some(server_error) => eprintln!("{server_error}"),
                None => eprintln!("error: {error:#}"),
            }
            ExitCode::FAILURE
        }
    }
}
