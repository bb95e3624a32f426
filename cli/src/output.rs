//! `-o` formats, and the `kind/name` form of objects.

use crate::print;
use rk_proto::v1::ObjectMeta;
use rk_proto::Resource;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Table { wide: bool },
    Yaml,
    Json,
    Name,
    JsonPath(String),
}

impl Format {
    pub fn parse(text: Option<&str>) -> anyhow::Result<Format> {
        Ok(match text {
            None | Some("") => Format::Table { wide: false },
            Some("wide") => Format::Table { wide: true },
            Some("yaml") => Format::Yaml,
            Some("json") => Format::Json,
            Some("name") => Format::Name,
            Some(other) => match other.strip_prefix("jsonpath=") {
                Some(template) => Format::JsonPath(template.to_string()),
                None => anyhow::bail!(
                    "unable to match a printer suitable for the output format {other:?}; allowed formats are: json, jsonpath=TEMPLATE, name, wide, yaml"
                ),
            },
        })
    }
}

/// `pod/web`, as `-o name` and write commands print it.
pub fn kind_slash_name<R: Resource>(meta: &ObjectMeta) -> String {
    format!("{}/{}", R::SINGULAR, meta.name)
}

/// Renders one object or a List in a structured format; None for table formats.
pub fn render_structured<T: Serialize>(value: &T, format: &Format) -> anyhow::Result<String> {
    let value = serde_json::to_value(value)?;
    Ok(match format {
        Format::Yaml => yaml_serde::to_string(&value)?,
        Format::Json => serde_json::to_string_pretty(&value)? + "\n",
        // Like kubectl's default --allow-missing-template-keys=true: a missing field prints nothing.
        Format::JsonPath(template) => print::jsonpath::JsonPath::parse(template)
            .and_then(|path| path.allow_missing_keys(true).execute(&value))
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        Format::Table { .. } | Format::Name => unreachable!("not a structured format"),
    })
}

/// The `kind: List` kubectl prints for several objects.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct List<'a, T> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub items: &'a [T],
    pub metadata: ListMetadata,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMetadata {
    pub resource_version: String,
}

pub fn list<T>(items: &[T], resource_version: String) -> List<'_, T> {
    List { api_version: "v1", kind: "List", items, metadata: ListMetadata { resource_version } }
}
