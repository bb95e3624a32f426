//! `rkctl label` and `rkctl annotate`: `key=value` sets, `key-` removes.

use super::Context;
use crate::errors::ServerError;
use crate::kinds;
use crate::output::kind_slash_name;
use rk_client::KindClient;
use rk_proto::with_kind;
use std::collections::BTreeMap;
use tonic::Code;

#[derive(clap::Args, Debug)]
pub struct MetadataArgs {
    /// TYPE NAME [key=value ...] [key- ...], or TYPE/NAME [...].
    #[arg(required = true, num_args = 2..)]
    args: Vec<String>,
    /// Allow replacing an existing value.
    #[arg(long)]
    overwrite: bool,
}

#[derive(Debug, Clone, Copy)]
pub enum Which {
    Labels,
    Annotations,
}

enum Change {
    Set(String, String),
    Remove(String),
}

pub async fn run(ctx: &Context, args: MetadataArgs, which: Which) -> anyhow::Result<()> {
    let (kind, name, rest) = match kinds::split_kind_name(&args.args[0]) {
        Some(parsed) => {
            let (kind, name) = parsed?;
            (kind, name, &args.args[1..])
        }
        None => (kinds::resolve(&args.args[0])?, args.args[1].clone(), &args.args[2..]),
    };
    let changes = rest.iter().map(|a| parse_change(a)).collect::<anyhow::Result<Vec<_>>>()?;
    if changes.is_empty() {
        anyhow::bail!("at least one key=value or key- is required");
    }
    with_kind!(kind, R => apply::<R>(ctx, &name, &changes, which, args.overwrite).await,
        otherwise unreachable!("resolved kinds are served"))
}

fn parse_change(arg: &str) -> anyhow::Result<Change> {
    if let Some((key, value)) = arg.split_once('=') {
        return Ok(Change::Set(key.to_string(), value.to_string()));
    }
    match arg.strip_suffix('-') {
        Some(key) if !key.is_empty() => Ok(Change::Remove(key.to_string())),
        _ => anyhow::bail!("{arg:?} is not key=value (set) or key- (remove)"),
    }
}

async fn apply<R: KindClient>(
    ctx: &Context,
    name: &str,
    changes: &[Change],
    which: Which,
    overwrite: bool,
) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let namespace = ctx.namespace_for::<R>();
    for _ in 0..5 {
        let mut object: R = client.get(&namespace, name).await.map_err(ServerError)?;
        let meta = object.metadata_mut();
        let map: &mut BTreeMap<String, String> = match which {
            Which::Labels => &mut meta.labels,
            Which::Annotations => &mut meta.annotations,
        };
        for change in changes {
            match change {
                Change::Set(key, value) => {
                    if let Some(old) = map.get(key).filter(|old| *old != value && !overwrite) {
                        anyhow::bail!("'{key}' already has a value ({old}), and --overwrite is false");
                    }
                    map.insert(key.clone(), value.clone());
                }
                Change::Remove(key) => {
                    map.remove(key);
                }
            }
        }
        let shown = kind_slash_name::<R>(object.metadata());
        match client.update(object).await {
            Ok(_) => {
                let verb = match which {
                    Which::Labels => "labeled",
                    Which::Annotations => "annotated",
                };
                println!("{shown} {verb}");
                return Ok(());
            }
            Err(status) if status.code() == Code::Aborted => continue,
            Err(status) => return Err(ServerError(status).into()),
        }
    }
    anyhow::bail!("{name} kept changing; try again")
}
