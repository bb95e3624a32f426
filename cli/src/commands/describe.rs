//! `rkctl describe`: an object in detail, with its events and related objects.

use super::get::parse_target;
use super::Context;
use crate::errors::ServerError;
use crate::print::describe::{uses_dataset, Describe, DescribeContext};
use rk_client::{Client, KindClient};
use rk_proto::labels::LabelSelector;
use rk_proto::v1::*;
use rk_proto::{Resource, ResourceList};
use std::collections::BTreeMap;

#[derive(clap::Args, Debug)]
pub struct DescribeArgs {
    /// TYPE [NAME ...] or TYPE/NAME ...
    #[arg(required = true)]
    args: Vec<String>,
    #[arg(short = 'l', long)]
    selector: Option<String>,
}

pub async fn run(ctx: &Context, args: DescribeArgs) -> anyhow::Result<()> {
    let target = parse_target(&args.args)?;
    let selector = args.selector.as_deref();
    match target.kind {
        "Pod" => describe::<Pod>(ctx, &target.names, selector).await,
        "ReplicationController" => describe::<ReplicationController>(ctx, &target.names, selector).await,
        "Service" => describe::<Service>(ctx, &target.names, selector).await,
        "Endpoints" => describe::<Endpoints>(ctx, &target.names, selector).await,
        "Node" => describe::<Node>(ctx, &target.names, selector).await,
        "Namespace" => describe::<Namespace>(ctx, &target.names, selector).await,
        "Dataset" => describe::<Dataset>(ctx, &target.names, selector).await,
        other => anyhow::bail!("describe shows pods, replicationcontrollers, services, endpoints, nodes, namespaces and datasets, not {other}; try `rkctl get`"),
    }
}

async fn describe<R: KindClient + Describe>(
    ctx: &Context,
    names: &[String],
    selector: Option<&str>,
) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    let namespace = ctx.namespace_for::<R>();
    let objects: Vec<R> = if names.is_empty() {
        let options = ListOptions {
            namespace: ctx.list_namespace::<R>(),
            label_selector: selector.unwrap_or_default().into(),
            ..Default::default()
        };
        client.list::<R>(options).await.map_err(ServerError)?.into_items()
    } else {
        let mut objects = Vec::new();
        for name in names {
            objects.push(client.get::<R>(&namespace, name).await.map_err(ServerError)?);
        }
        objects
    };
    let mut blocks = Vec::new();
    for object in &objects {
        blocks.push(describe_one(client, object).await?);
    }
    print!("{}", blocks.join("\n\n"));
    Ok(())
}

async fn describe_one<R: KindClient + Describe>(client: &Client, object: &R) -> anyhow::Result<String> {
    let meta = object.metadata();
    let events = events_about::<R>(client, meta).await?;
    let value = serde_json::to_value(object)?;
    let pods = match R::KIND {
        "ReplicationController" => {
            let selector: BTreeMap<String, String> =
                serde_json::from_value(value["spec"]["selector"].clone()).unwrap_or_default();
            list_pods(client, &meta.namespace, &LabelSelector::from_map(&selector).to_string(), "").await?
        }
        "Node" => list_pods(client, "", "", &format!("spec.nodeName={}", meta.name)).await?,
        "Dataset" => {
            let pods = list_pods(client, &meta.namespace, "", "").await?;
            pods.into_iter().filter(|pod| uses_dataset(pod, &meta.name)).collect()
        }
        _ => Vec::new(),
    };
    let endpoints = match R::KIND {
        "Service" => client.get::<Endpoints>(&meta.namespace, &meta.name).await.ok(),
        _ => None,
    };
    let context =
        DescribeContext { now: chrono::Utc::now(), events: Some(&events), pods: &pods, endpoints: endpoints.as_ref() };
    Ok(object.describe(&context))
}

async fn list_pods(client: &Client, namespace: &str, labels: &str, fields: &str) -> anyhow::Result<Vec<Pod>> {
    let options = ListOptions {
        namespace: namespace.into(),
        label_selector: labels.into(),
        field_selector: fields.into(),
        ..Default::default()
    };
    Ok(client.list::<Pod>(options).await.map_err(ServerError)?.into_items())
}

/// Events whose involvedObject is this object, oldest first.
async fn events_about<R: Resource>(client: &Client, meta: &ObjectMeta) -> anyhow::Result<Vec<Event>> {
    let namespace = if R::NAMESPACED { meta.namespace.clone() } else { String::new() };
    let options = ListOptions { namespace, ..Default::default() };
    let mut events: Vec<Event> = client
        .list::<Event>(options)
        .await
        .map_err(ServerError)?
        .into_items()
        .into_iter()
        .filter(|e| e.involved_object.as_ref().is_some_and(|o| o.kind == R::KIND && o.name == meta.name))
        .collect();
    events.sort_by(|a, b| a.last_timestamp.cmp(&b.last_timestamp));
    Ok(events)
}
