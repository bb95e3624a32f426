//! `rkctl delete`: by name, `-f`, `-l` or `--all`.

use super::get::parse_target;
use super::Context;
use crate::errors::ServerError;
use crate::manifests;
use rk_client::KindClient;
use rk_proto::v1::{DeleteRequest, ListOptions};
use rk_proto::{with_kind, with_object, ResourceList};

#[derive(clap::Args, Debug)]
pub struct DeleteArgs {
    /// TYPE [NAME ...] or TYPE/NAME ...
    args: Vec<String>,
    /// Delete the objects in these manifests.
    #[arg(short = 'f', long = "filename")]
    files: Vec<String>,
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Delete every object of the kind in the namespace.
    #[arg(long)]
    all: bool,
    /// Seconds a pod gets to stop; 0 with --force deletes at once.
    #[arg(long)]
    grace_period: Option<i64>,
    /// With --grace-period=0: remove the object immediately.
    #[arg(long)]
    force: bool,
    /// background (default), foreground or orphan: what happens to the objects it owns.
    #[arg(long, default_value = "background")]
    cascade: String,
}

pub async fn run(ctx: &Context, args: DeleteArgs) -> anyhow::Result<()> {
    let policy = match args.cascade.as_str() {
        "background" | "true" => "Background",
        "foreground" => "Foreground",
        "orphan" | "false" => "Orphan",
        other => anyhow::bail!("--cascade={other:?} is not valid: use background, foreground or orphan"),
    };
    let grace = match (args.grace_period, args.force) {
        (Some(g), _) if g < 0 => None,
        (None, true) => Some(0),
        (g, _) => g,
    };
    let request = |namespace: String, name: String| DeleteRequest {
        namespace,
        name,
        grace_period_seconds: grace,
        preconditions: None,
        propagation_policy: policy.to_string(),
    };
    let client = ctx.client().await?;
    let mut failures = 0;
    if !args.files.is_empty() {
        for object in manifests::read_objects(&args.files, false)? {
            let result = with_object!(object, o => delete_one(client, &o, ctx, &request).await);
            failures += report(result);
        }
    } else {
        if args.args.is_empty() {
            anyhow::bail!("you must provide one or more resources by argument or filename (-f)");
        }
        let target = parse_target(&args.args)?;
        if target.names.is_empty() && args.selector.is_none() && !args.all {
            anyhow::bail!(
                "resource(s) were provided, but no name was specified; use --all to delete every {}",
                target.kind
            );
        }
        failures = with_kind!(target.kind, R => delete_kind::<R>(ctx, &target.names, args.selector.as_deref(), &request).await?,
            otherwise unreachable!("resolved kinds are served"));
    }
    if failures > 0 {
        anyhow::bail!("{failures} object(s) could not be deleted");
    }
    Ok(())
}

fn report(result: Result<String, ServerError>) -> usize {
    match result {
        Ok(line) => {
            println!("{line}");
            0
        }
        Err(error) => {
            eprintln!("{error}");
            1
        }
    }
}

async fn delete_one<R: KindClient>(
    client: &rk_client::Client,
    object: &R,
    ctx: &Context,
    request: &impl Fn(String, String) -> DeleteRequest,
) -> Result<String, ServerError> {
    let meta = object.metadata();
    let namespace = if meta.namespace.is_empty() { ctx.namespace_for::<R>() } else { meta.namespace.clone() };
    client.delete::<R>(request(namespace, meta.name.clone())).await?;
    Ok(format!("{} \"{}\" deleted", R::SINGULAR, meta.name))
}

async fn delete_kind<R: KindClient>(
    ctx: &Context,
    names: &[String],
    selector: Option<&str>,
    request: &impl Fn(String, String) -> DeleteRequest,
) -> anyhow::Result<usize> {
    let client = ctx.client().await?;
    let namespace = ctx.namespace_for::<R>();
    let names: Vec<String> = if names.is_empty() {
        let options = ListOptions {
            namespace: namespace.clone(),
            label_selector: selector.unwrap_or_default().to_string(),
            ..Default::default()
        };
        let list = client.list::<R>(options).await.map_err(ServerError)?;
        if list.items().is_empty() {
            println!("No resources found");
        }
        list.into_items().into_iter().map(|o| o.metadata().name.clone()).collect()
    } else {
        names.to_vec()
    };
    let mut failures = 0;
    for name in names {
        let result = client.delete::<R>(request(namespace.clone(), name.clone())).await;
        failures += report(result.map(|_| format!("{} \"{name}\" deleted", R::SINGULAR)).map_err(ServerError));
    }
    Ok(failures)
}
