//! `rkctl cluster up | down | status`: a local cluster of child processes
//! (etcd, the control-plane components, and the nodes: each a dockerd and
//! a kubelet, in network namespaces of their own when there are several)
//! with their data and logs under the state directory.

mod components;
mod health;
mod load_balancer;
mod netns;
mod node;
mod process;
mod proxy;

use super::Context;
use anyhow::Context as _;
use components::Component;
use indicatif::{ProgressBar, ProgressStyle};
use std::time::{Duration, Instant};

#[derive(clap::Subcommand, Debug)]
pub enum ClusterCommand {
    /// Start etcd and the control plane, wait until healthy, write the client config.
    Up(Box<components::UpArgs>),
    /// Stop what `up` started and remove its data (unless --keep-data).
    Down {
        /// Keep etcd's data for the next `up`.
        #[arg(long)]
        keep_data: bool,
    },
    /// Show each component's process and health.
    Status,
}

pub async fn run(ctx: &Context, command: ClusterCommand) -> anyhow::Result<()> {
    match command {
        ClusterCommand::Up(args) => up(ctx, *args).await,
        ClusterCommand::Down { keep_data } => down(ctx, keep_data),
        ClusterCommand::Status => status(ctx).await,
    }
}

async fn up(ctx: &Context, args: components::UpArgs) -> anyhow::Result<()> {
    let dir = &ctx.state_dir;
    std::fs::create_dir_all(dir.join("logs"))?;
    let components = components::plan(&args, dir)?;
    load_balancer::blocks(&args)?;
    args.save(dir)?;
    node::prepare(&args.node, dir)?;
    load_balancer::route(&args, dir).context("routing --load-balancer-ip-range")?;
    let bar = ProgressBar::new(components.len() as u64)
        .with_style(ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg}").expect("valid template"));
    bar.enable_steady_tick(Duration::from_millis(100));
    for component in &components {
        if process::running(dir, &component.name).is_some() {
            bar.set_message(format!("{} already running", component.name));
        } else {
            bar.set_message(format!("starting {}", component.name));
            process::spawn(dir, component)?;
        }
        bar.set_message(format!("waiting for {} to be healthy at {}", component.name, component.health_url));
        wait_healthy(component, dir).await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    crate::config::write_config(dir, &crate::config::ClientConfig { server: args.apiserver_address() })?;
    println!("rk cluster is up: apiserver at {} (state and logs in {})", args.apiserver_address(), dir.display());
    println!("try: rkctl get namespaces");
    Ok(())
}

async fn wait_healthy(component: &Component, dir: &std::path::Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // Alive first: a component that could not bind its port exits, and
        // whatever holds that port may well answer the health check.
        if process::running(dir, &component.name).is_none() {
            anyhow::bail!(
                "{} exited during start-up; see {}",
                component.name,
                process::log_path(dir, &component.name).display()
            );
        }
        if health::check(&component.health_url).await.is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!(
                "{} did not become healthy within 30s; see {}",
                component.name,
                process::log_path(dir, &component.name).display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn down(ctx: &Context, keep_data: bool) -> anyhow::Result<()> {
    let dir = &ctx.state_dir;
    let args = components::UpArgs::load(dir);
    let mut stopped = 0;
    for name in components::names(&args, dir).iter().rev() {
        if process::stop(dir, name)? {
            println!("stopped {name}");
            stopped += 1;
        }
        if name == "rk-proxy" {
            // The node on the host's network: its rules and route go (namespaced nodes' go with the namespace).
            if let Err(error) = proxy::clean_up(&args) {
                eprintln!("warning: {error:#}");
            }
        }
        if name.ends_with("rk-kubelet") {
            // While the Docker daemon still runs: the pods' containers and network go.
            if let Err(error) = node::clean_up(&args, dir, name) {
                eprintln!("warning: {error:#}");
            }
        }
    }
    if stopped == 0 {
        println!("no rk cluster processes were running (state dir {})", dir.display());
    }
    for removed in load_balancer::unroute(&args, dir)? {
        println!("removed {removed}");
    }
    node::tear_down(&args.node, dir)?;
    if !keep_data {
        components::remove_data(&args, dir)?;
    }
    Ok(())
}

async fn status(ctx: &Context) -> anyhow::Result<()> {
    let dir = &ctx.state_dir;
    let args = components::UpArgs::load(dir);
    let mut text = String::from("COMPONENT\tPID\tSTATUS\tHEALTH\n");
    let mut all_healthy = true;
    for component in components::plan(&args, dir)? {
        let pid = process::running(dir, &component.name);
        let health = match pid {
            None => "-".to_string(),
            Some(_) => match health::check(&component.health_url).await {
                Ok(()) => "ok".to_string(),
                Err(error) => error.to_string(),
            },
        };
        all_healthy &= health == "ok";
        let (pid, state) = match pid {
            Some(pid) => (pid.to_string(), "Running"),
            None => ("-".to_string(), "Stopped"),
        };
        text += &format!("{}\t{pid}\t{state}\t{health}\n", component.name);
    }
    print!("{}", crate::print::TabWriter::new(6, 3).format(&text));
    if !all_healthy {
        anyhow::bail!("the cluster is not fully up; `rkctl cluster up` starts it");
    }
    Ok(())
}
