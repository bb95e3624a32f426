//! `rkctl get`: tables like kubectl's, or YAML / JSON / names / jsonpath; `-w` follows changes.

use super::Context;
use crate::errors::ServerError;
use crate::kinds;
use crate::output::{self, kind_slash_name, Format};
use crate::print::{no_resources_message, Columns, TableOptions, TablePrinter};
use futures::StreamExt;
use rk_client::KindClient;
use rk_proto::v1::ListOptions;
use rk_proto::{with_kind, ResourceList};
use tonic::Code;

#[derive(clap::Args, Debug)]
pub struct GetArgs {
    /// TYPE [NAME ...], or TYPE/NAME ...
    #[arg(required = true)]
    args: Vec<String>,
    /// Label selector, like app=web,tier!=db or 'env in (prod,dev)'.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Field selector, like spec.nodeName=node1 or status.phase!=Running.
    #[arg(long)]
    field_selector: Option<String>,
    /// wide, yaml, json, name or jsonpath=TEMPLATE.
    #[arg(short = 'o', long)]
    output: Option<String>,
    /// Add a LABELS column.
    #[arg(long)]
    show_labels: bool,
    /// After listing, print changes as they happen.
    #[arg(short = 'w', long)]
    watch: bool,
    #[arg(long)]
    no_headers: bool,
}

/// What to get: one kind, and the names asked for (none: all, filtered by selectors).
pub struct Target {
    pub kind: &'static str,
    pub names: Vec<String>,
}

/// Parses `TYPE NAME...` or `TYPE/NAME...` (all of one kind).
pub fn parse_target(args: &[String]) -> anyhow::Result<Target> {
    if args[0].contains('/') {
        let mut kind = None;
        let mut names = Vec::new();
        for arg in args {
            let (k, name) = kinds::split_kind_name(arg)
                .ok_or_else(|| anyhow::anyhow!("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form"))??;
            if kind.is_some_and(|seen| seen != k) {
                anyhow::bail!("rkctl takes objects of one kind at a time; got {} and {k}", kind.unwrap_or_default());
            }
            kind = Some(k);
            names.push(name);
        }
        return Ok(Target { kind: kind.expect("at least one argument"), names });
    }
    Ok(Target { kind: kinds::resolve(&args[0])?, names: args[1..].to_vec() })
}

/// What `get all` shows, as kubectl's `all` category does for these kinds.
const ALL_KINDS: &[&str] = &["Pod", "Service", "ReplicationController"];

/// `pods,svc` or `all`: several kinds at once, or None for one kind.
fn several_kinds(args: &[String]) -> anyhow::Result<Option<Vec<&'static str>>> {
    let first = &args[0];
    if first.contains('/') || !(first.contains(',') || first.eq_ignore_ascii_case("all")) {
        return Ok(None);
    }
    if args.len() > 1 {
        anyhow::bail!("names cannot be given with several resource types; use TYPE/NAME instead");
    }
    let mut kinds = Vec::new();
    for part in first.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let expanded = if part.eq_ignore_ascii_case("all") { ALL_KINDS.to_vec() } else { vec![kinds::resolve(part)?] };
        for kind in expanded {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
    }
    Ok(Some(kinds))
}

pub async fn run(ctx: &Context, args: GetArgs) -> anyhow::Result<()> {
    let format = Format::parse(args.output.as_deref())?;
    if let Some(kinds) = several_kinds(&args.args)? {
        return get_several(ctx, &args, &kinds, &format).await;
    }
    let target = parse_target(&args.args)?;
    with_kind!(target.kind, R => get::<R>(ctx, &args, &target.names, &format).await,
        otherwise unreachable!("resolved kinds are served"))
}

/// Tables (or names) of several kinds, one after the other, skipping empty ones.
async fn get_several(ctx: &Context, args: &GetArgs, kinds: &[&'static str], format: &Format) -> anyhow::Result<()> {
    if args.watch || !matches!(format, Format::Table { .. } | Format::Name) {
        anyhow::bail!("several resource types at once take only table (-o wide) or -o name output, without -w");
    }
    let mut printed = false;
    for kind in kinds {
        with_kind!(*kind, R => print_kind::<R>(ctx, args, format, &mut printed).await?,
            otherwise unreachable!("resolved kinds are served"));
    }
    if !printed {
        let ns = ctx.namespace.clone().unwrap_or_else(|| "default".into());
        eprintln!("{}", no_resources_message((!ctx.all_namespaces).then_some(ns.as_str())));
    }
    Ok(())
}

async fn print_kind<R: KindClient + Columns>(
    ctx: &Context,
    args: &GetArgs,
    format: &Format,
    printed: &mut bool,
) -> anyhow::Result<()> {
    let (items, _) = list_items::<R>(ctx, args).await?;
    if items.is_empty() {
        return Ok(());
    }
    if let Format::Table { wide } = format {
        if *printed {
            println!();
        }
        let options = TableOptions {
            wide: *wide,
            all_namespaces: ctx.all_namespaces,
            show_labels: args.show_labels,
            no_headers: args.no_headers,
            kind_prefix: true,
        };
        print!("{}", TablePrinter::<R>::new(options).print(&items, chrono::Utc::now()));
    } else {
        items.iter().for_each(|o| println!("{}", kind_slash_name::<R>(o.metadata())));
    }
    *printed = true;
    Ok(())
}

/// Every object of the kind the selectors pick, and the list's resourceVersion.
async fn list_items<R: KindClient>(ctx: &Context, args: &GetArgs) -> anyhow::Result<(Vec<R>, String)> {
    let options = ListOptions {
        namespace: ctx.list_namespace::<R>(),
        label_selector: args.selector.clone().unwrap_or_default(),
        field_selector: args.field_selector.clone().unwrap_or_default(),
        ..Default::default()
    };
    let list = ctx.client().await?.list::<R>(options).await.map_err(ServerError)?;
    let rv = list.list_meta().resource_version;
    Ok((list.into_items(), rv))
}

async fn get<R: KindClient + Columns>(
    ctx: &Context,
    args: &GetArgs,
    names: &[String],
    format: &Format,
) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let (items, resource_version) = if names.is_empty() {
        list_items::<R>(ctx, args).await?
    } else {
        let namespace = ctx.namespace_for::<R>();
        let mut items = Vec::new();
        for name in names {
            items.push(client.get::<R>(&namespace, name).await.map_err(ServerError)?);
        }
        (items, String::new())
    };
    let options = TableOptions {
        wide: matches!(format, Format::Table { wide: true }),
        all_namespaces: ctx.all_namespaces,
        show_labels: args.show_labels,
        no_headers: args.no_headers,
        kind_prefix: false,
    };
    let mut table = TablePrinter::<R>::new(options);
    match format {
        Format::Table { .. } => {
            if items.is_empty() && !args.watch {
                let ns = ctx.list_namespace::<R>();
                eprintln!("{}", no_resources_message((!ns.is_empty()).then_some(ns.as_str())));
            } else {
                print!("{}", table.print(&items, chrono::Utc::now()));
            }
        }
        Format::Name => items.iter().for_each(|o| println!("{}", kind_slash_name::<R>(o.metadata()))),
        structured => {
            let text = match (names.len(), items.as_slice()) {
                (1, [one]) => output::render_structured(one, structured)?,
                _ => output::render_structured(&output::list(&items, resource_version.clone()), structured)?,
            };
            print!("{text}");
        }
    }
    if args.watch {
        follow::<R>(ctx, args, names, resource_version, format, &mut table).await?;
    }
    Ok(())
}

/// Prints every change after `resource_version`; relists if the server says it is too old.
async fn follow<R: KindClient + Columns>(
    ctx: &Context,
    args: &GetArgs,
    names: &[String],
    mut resource_version: String,
    format: &Format,
    table: &mut TablePrinter<R>,
) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let mut field_selector = args.field_selector.clone().unwrap_or_default();
    if let [name] = names {
        field_selector = format!("metadata.name={name}");
    }
    loop {
        let options = ListOptions {
            namespace: ctx.list_namespace::<R>(),
            label_selector: args.selector.clone().unwrap_or_default(),
            field_selector: field_selector.clone(),
            resource_version: resource_version.clone(),
            ..Default::default()
        };
        let mut stream = client.watch::<R>(options).await.map_err(ServerError)?;
        let mut too_old = false;
        while let Some(event) = stream.next().await {
            let event = match event {
                Ok(event) => event,
                Err(status) if status.code() == Code::OutOfRange => {
                    too_old = true;
                    break;
                }
                Err(status) => return Err(ServerError(status).into()),
            };
            let (_, Some(object)) = R::into_watch_parts(event) else { continue };
            resource_version = object.metadata().resource_version.clone();
            match format {
                Format::Table { .. } => print!("{}", table.print(std::slice::from_ref(&object), chrono::Utc::now())),
                Format::Name => println!("{}", kind_slash_name::<R>(object.metadata())),
                structured => print!("{}", output::render_structured(&object, structured)?),
            }
        }
        if too_old {
            // Events were missed: relist to learn where to resume, as kubectl's reflector does.
            let options = ListOptions { namespace: ctx.list_namespace::<R>(), ..Default::default() };
            resource_version = client.list::<R>(options).await.map_err(ServerError)?.list_meta().resource_version;
        }
    }
}
