//! rkctl's subcommands.

mod api_resources;
mod cluster;
mod context;
mod delete;
mod describe;
mod exec;
mod get;
mod logs;
mod metadata;
mod pod_arg;
mod scale;
mod write;

use crate::Cli;
use clap::Subcommand;
pub use context::Context;
pub use exec::CommandExited;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create objects from manifests.
    Create(write::WriteArgs),
    /// Create objects, or replace them if they exist.
    Apply(write::WriteArgs),
    /// Replace existing objects (a resourceVersion in the manifest must be current).
    #[command(alias = "replace")]
    Update(write::WriteArgs),
    /// Show objects as a table, YAML, JSON, names or jsonpath.
    Get(get::GetArgs),
    /// Show objects in detail, with their events.
    Describe(describe::DescribeArgs),
    /// Delete objects by name, manifest, label selector or all.
    Delete(delete::DeleteArgs),
    /// Set (`key=value`) or remove (`key-`) labels.
    Label(metadata::MetadataArgs),
    /// Set (`key=value`) or remove (`key-`) annotations.
    Annotate(metadata::MetadataArgs),
    /// Set a replication controller's replicas.
    Scale(scale::ScaleArgs),
    /// Print a container's logs.
    Logs(logs::LogsArgs),
    /// Run a command in a container.
    Exec(exec::ExecArgs),
    /// Print the client and server versions.
    Version,
    /// List the kinds the server serves.
    ApiResources,
    /// Run a local cluster: etcd and the control plane as child processes.
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Context::new(&cli);
    match cli.command {
        Command::Create(args) => write::run(&ctx, args, write::Mode::Create).await,
        Command::Apply(args) => write::run(&ctx, args, write::Mode::Apply).await,
        Command::Update(args) => write::run(&ctx, args, write::Mode::Update).await,
        Command::Get(args) => get::run(&ctx, args).await,
        Command::Describe(args) => describe::run(&ctx, args).await,
        Command::Delete(args) => delete::run(&ctx, args).await,
        Command::Label(args) => metadata::run(&ctx, args, metadata::Which::Labels).await,
        Command::Annotate(args) => metadata::run(&ctx, args, metadata::Which::Annotations).await,
        Command::Scale(args) => scale::run(&ctx, args).await,
        Command::Logs(args) => logs::run(&ctx, args).await,
        Command::Exec(args) => exec::run(&ctx, args).await,
        Command::Version => {
            println!("Client Version: rkctl {}", env!("CARGO_PKG_VERSION"));
            let server = ctx.client().await.map(|_| format!("rk-apiserver at {}", ctx.server));
            println!("Server: {}", server.unwrap_or_else(|e| format!("unreachable ({e:#})")));
            Ok(())
        }
        Command::ApiResources => {
            api_resources::print();
            Ok(())
        }
        Command::Cluster(command) => cluster::run(&ctx, command).await,
    }
}
