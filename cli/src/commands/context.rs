//! What every command needs: the server, the namespace, a connected client.

use crate::config;
use crate::Cli;
use rk_client::Client;
use rk_proto::Resource;
use std::path::PathBuf;
use tokio::sync::OnceCell;

pub struct Context {
    pub server: String,
    /// `-n`, if given.
    pub namespace: Option<String>,
    pub all_namespaces: bool,
    pub state_dir: PathBuf,
    client: OnceCell<Client>,
}

impl Context {
    pub fn new(cli: &Cli) -> Self {
        let state_dir = config::state_dir(cli.state_dir.as_deref());
        Context {
            server: config::resolve_server(cli.server.as_deref(), &state_dir),
            namespace: cli.namespace.clone(),
            all_namespaces: cli.all_namespaces,
            state_dir,
            client: OnceCell::new(),
        }
    }

    pub async fn client(&self) -> anyhow::Result<&Client> {
        Ok(self.client.get_or_try_init(|| Client::connect(&self.server)).await?)
    }

    /// The namespace a command acts in for kind `R` ("" for cluster-scoped kinds).
    pub fn namespace_for<R: Resource>(&self) -> String {
        if !R::NAMESPACED {
            return String::new();
        }
        self.namespace.clone().unwrap_or_else(|| "default".to_string())
    }

    /// The namespace to list in: "" for all namespaces (-A) or cluster-scoped kinds.
    pub fn list_namespace<R: Resource>(&self) -> String {
        if self.all_namespaces {
            String::new()
        } else {
            self.namespace_for::<R>()
        }
    }
}
