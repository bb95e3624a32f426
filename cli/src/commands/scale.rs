//! `rkctl scale rc NAME --replicas N`.

use super::Context;
use crate::errors::ServerError;
use crate::kinds;
use rk_proto::v1::ReplicationController;
use rk_proto::Resource;
use tonic::Code;

#[derive(clap::Args, Debug)]
pub struct ScaleArgs {
    /// `rc NAME` or `rc/NAME`.
    #[arg(required = true, num_args = 1..=2)]
    target: Vec<String>,
    #[arg(long)]
    replicas: i32,
}

pub async fn run(ctx: &Context, args: ScaleArgs) -> anyhow::Result<()> {
    let (kind, name) = match args.target.as_slice() {
        [one] => kinds::split_kind_name(one)
            .ok_or_else(|| anyhow::anyhow!("expected TYPE/NAME or TYPE NAME, got {one:?}"))??,
        [kind, name] => (kinds::resolve(kind)?, name.clone()),
        _ => unreachable!("clap enforces 1 or 2 arguments"),
    };
    if kind != ReplicationController::KIND {
        anyhow::bail!("cannot scale {kind}: only replicationcontrollers (rc) can be scaled");
    }
    if args.replicas < 0 {
        anyhow::bail!("--replicas must be 0 or more, got {}", args.replicas);
    }
    let client = ctx.client().await?;
    let namespace = ctx.namespace_for::<ReplicationController>();
    // Read-modify-write, retried when someone else wrote in between.
    for _ in 0..5 {
        let mut rc: ReplicationController = client.get(&namespace, &name).await.map_err(ServerError)?;
        rc.spec.get_or_insert_with(Default::default).replicas = Some(args.replicas);
        match client.update(rc).await {
            Ok(_) => {
                println!("replicationcontroller/{name} scaled");
                return Ok(());
            }
            Err(status) if status.code() == Code::Aborted => continue,
            Err(status) => return Err(ServerError(status).into()),
        }
    }
    anyhow::bail!("replicationcontroller/{name} kept changing; try again")
}
