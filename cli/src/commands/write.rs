//! `create`, `apply` and `update`: send manifests to the apiserver.

use super::Context;
use crate::errors::ServerError;
use crate::manifests;
use crate::output::kind_slash_name;
use rk_client::KindClient;
use rk_proto::with_object;
use tonic::Code;

#[derive(clap::Args, Debug)]
pub struct WriteArgs {
    /// Manifest file, directory, or - for standard input; may be repeated.
    #[arg(short = 'f', long = "filename", required = true)]
    files: Vec<String>,
    /// Refuse unknown fields (the default); --validate=false drops them with a warning.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    validate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Apply,
    Update,
}

pub async fn run(ctx: &Context, args: WriteArgs, mode: Mode) -> anyhow::Result<()> {
    let objects = manifests::read_objects(&args.files, args.validate)?;
    let client = ctx.client().await?;
    let mut failures = 0;
    for object in objects {
        let outcome = with_object!(object, o => write_one(ctx, client, o, mode).await);
        match outcome {
            Ok(line) => println!("{line}"),
            Err(error) => {
                eprintln!("{error}");
                failures += 1;
            }
        }
    }
    if failures > 0 {
        anyhow::bail!("{failures} object(s) failed");
    }
    Ok(())
}

async fn write_one<R: KindClient>(
    ctx: &Context,
    client: &rk_client::Client,
    mut object: R,
    mode: Mode,
) -> Result<String, ServerError> {
    if R::NAMESPACED && object.metadata().namespace.is_empty() {
        object.metadata_mut().namespace = ctx.namespace_for::<R>();
    }
    let name = kind_slash_name::<R>(object.metadata());
    match mode {
        Mode::Create => {
            let created = client.create(object).await?;
            Ok(format!("{} created", kind_slash_name::<R>(created.metadata())))
        }
        Mode::Update => {
            client.update(object).await?;
            Ok(format!("{name} replaced"))
        }
        Mode::Apply => {
            let meta = object.metadata().clone();
            match client.get::<R>(&meta.namespace, &meta.name).await {
                Err(status) if status.code() == Code::NotFound => {
                    client.create(object).await?;
                    Ok(format!("{name} created"))
                }
                Err(status) => Err(status.into()),
                Ok(current) => {
                    // Last writer wins (an update without resourceVersion is unconditional), unless
                    // the manifest pins one; status written meanwhile by a controller is kept.
                    let updated = client.update(object).await?;
                    let changed = updated.metadata().generation != current.metadata().generation
                        || updated.metadata().labels != current.metadata().labels
                        || updated.metadata().annotations != current.metadata().annotations;
                    Ok(format!("{name} {}", if changed { "configured" } else { "unchanged" }))
                }
            }
        }
    }
}
