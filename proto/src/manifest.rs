//! Decodes manifests as people write them: Kubernetes v1 JSON or YAML, one
//! object, several (multi-document YAML, concatenated JSON) or a `kind: List`.
//!
//! Nulls mean "unset" (`creationTimestamp: null`); an unknown field is an
//! error that names it unless validation is off, when it is dropped with a
//! warning. Input is bounded in size, nesting depth and alias expansion, so a
//! hostile manifest is refused quickly.

use crate::v1::*;
use crate::{Resource, API_VERSION};
use serde::Deserialize;
use serde_json::Value;

/// Larger inputs are refused before parsing.
pub const MAX_MANIFEST_BYTES: usize = 8 << 20;

/// The kinds a manifest may hold, in the order `rkctl api-resources` lists them.
pub const KINDS: &[&str] =
    &["Dataset", "Endpoints", "Event", "Namespace", "Node", "Pod", "ReplicationController", "Service"];

#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Pod(Pod),
    ReplicationController(ReplicationController),
    Service(Service),
    Endpoints(Endpoints),
    Node(Node),
    Namespace(Namespace),
    Event(Event),
    Dataset(Dataset),
}

/// Runs `$body` with `$o` bound to the typed object inside an [`Object`].
#[macro_export]
macro_rules! with_object {
    ($object:expr, $o:ident => $body:expr) => {
        match $object {
            $crate::Object::Pod($o) => $body,
            $crate::Object::ReplicationController($o) => $body,
            $crate::Object::Service($o) => $body,
            $crate::Object::Endpoints($o) => $body,
            $crate::Object::Node($o) => $body,
            $crate::Object::Namespace($o) => $body,
            $crate::Object::Event($o) => $body,
            $crate::Object::Dataset($o) => $body,
        }
    };
}

/// Runs `$body` with the type alias `$R` naming the kind called `$kind`
/// (`"Pod"`), or evaluates `$otherwise` for a kind rk does not serve.
#[macro_export]
macro_rules! with_kind {
    ($kind:expr, $R:ident => $body:expr, otherwise $otherwise:expr) => {
        match $kind {
            "Pod" => {
                type $R = $crate::v1::Pod;
                $body
            }
            "ReplicationController" => {
                type $R = $crate::v1::ReplicationController;
                $body
            }
            "Service" => {
                type $R = $crate::v1::Service;
                $body
            }
            "Endpoints" => {
                type $R = $crate::v1::Endpoints;
                $body
            }
            "Node" => {
                type $R = $crate::v1::Node;
                $body
            }
            "Namespace" => {
                type $R = $crate::v1::Namespace;
                $body
            }
            "Event" => {
                type $R = $crate::v1::Event;
                $body
            }
            "Dataset" => {
                type $R = $crate::v1::Dataset;
                $body
            }
            _ => $otherwise,
        }
    };
}

impl Object {
    pub fn kind(&self) -> &'static str {
        fn kind_of<R: Resource>(_: &R) -> &'static str {
            R::KIND
        }
        with_object!(self, o => kind_of(o))
    }

    pub fn metadata(&self) -> &ObjectMeta {
        with_object!(self, o => o.metadata())
    }

    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        with_object!(self, o => o.metadata_mut())
    }
}

#[derive(Debug, Clone, Copy)]
pub struct DecodeOptions {
    /// Refuse unknown fields (rkctl's default); when false they are dropped with a warning.
    pub validate: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { validate: true }
    }
}

#[derive(Debug, Default)]
pub struct Decoded {
    pub objects: Vec<Object>,
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ManifestError {
    #[error("the manifest is {size} bytes; manifests of at most {MAX_MANIFEST_BYTES} bytes are accepted")]
    TooLarge { size: usize },
    #[error("the manifest is not valid {format}: {message}")]
    Syntax { format: &'static str, message: String },
    #[error("{location}: {message}")]
    Invalid { location: String, message: String },
    #[error("the manifest holds no objects")]
    Empty,
}

/// Decodes every object in `text`; any error rejects the whole manifest.
pub fn decode_manifests(text: &str, options: DecodeOptions) -> Result<Decoded, ManifestError> {
    if text.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::TooLarge { size: text.len() });
    }
    let mut decoded = Decoded::default();
    for (index, value) in parse_documents(text)?.into_iter().enumerate() {
        let location = format!("document {}", index + 1);
        decode_value(strip_nulls(value), &location, options, &mut decoded)?;
    }
    if decoded.objects.is_empty() {
        return Err(ManifestError::Empty);
    }
    Ok(decoded)
}

fn parse_documents(text: &str) -> Result<Vec<Value>, ManifestError> {
    let trimmed = text.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return parse_yaml(text);
    }
    // JSON, or a YAML flow mapping like `{apiVersion: v1, ...}`: JSON's error wins if both fail.
    serde_json::Deserializer::from_str(text).into_iter::<Value>().collect::<Result<Vec<_>, _>>().or_else(|json_error| {
        parse_yaml(text).map_err(|_| ManifestError::Syntax { format: "JSON", message: json_error.to_string() })
    })
}

fn parse_yaml(text: &str) -> Result<Vec<Value>, ManifestError> {
    let mut documents = Vec::new();
    for document in yaml_serde::Deserializer::from_str(text) {
        let value = Value::deserialize(document)
            .map_err(|e| ManifestError::Syntax { format: "YAML", message: e.to_string() })?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}

/// Kubernetes treats a null field as unset.
fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, strip_nulls(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

fn decode_value(value: Value, location: &str, options: DecodeOptions, out: &mut Decoded) -> Result<(), ManifestError> {
    let invalid = |message: String| ManifestError::Invalid { location: location.to_string(), message };
    let Value::Object(map) = &value else {
        return Err(invalid(format!("expected an object with apiVersion and kind, found {}", describe(&value))));
    };
    let text = |key: &str| map.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    if kind.is_empty() {
        return Err(invalid(format!("kind is required; rk serves {}", KINDS.join(", "))));
    }
    if api_version != API_VERSION {
        let found =
            if api_version.is_empty() { "no apiVersion".to_string() } else { format!("apiVersion {api_version:?}") };
        return Err(invalid(format!("{found} for kind {kind}: rk serves apiVersion {API_VERSION} only")));
    }
    if kind == "List" || (kind.ends_with("List") && KINDS.contains(&kind.trim_end_matches("List"))) {
        let Some(Value::Array(items)) = map.get("items").cloned() else {
            return Err(invalid(format!("a {kind} needs an items array")));
        };
        for (i, item) in items.into_iter().enumerate() {
            decode_value(item, &format!("{location} items[{i}]"), options, out)?;
        }
        return Ok(());
    }
    let object = with_kind!(kind.as_str(), R => typed::<R>(value, location, options, out).map(Object::from)?,
        otherwise return Err(invalid(format!("kind {kind:?} is not served; rk serves {}", KINDS.join(", ")))));
    out.objects.push(object);
    Ok(())
}

fn typed<R: Resource>(
    value: Value,
    location: &str,
    options: DecodeOptions,
    out: &mut Decoded,
) -> Result<R, ManifestError> {
    let name = value.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
    let location = if name.is_empty() {
        format!("{location} ({})", R::KIND)
    } else {
        format!("{location} ({} {name:?})", R::KIND)
    };
    let mut unknown = Vec::new();
    let mut record_unknown = |path: serde_ignored::Path| unknown.push(path_text(&path));
    let ignoring = serde_ignored::Deserializer::new(value, &mut record_unknown);
    let object: R = serde_path_to_error::deserialize(ignoring).map_err(|e| ManifestError::Invalid {
        location: location.clone(),
        message: format!("{}: {}", e.path(), e.inner()),
    })?;
    if unknown.is_empty() {
        return Ok(object);
    }
    let fields = unknown.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", ");
    if options.validate {
        let noun = if unknown.len() == 1 { "field" } else { "fields" };
        return Err(ManifestError::Invalid {
            location,
            message: format!(
                "unknown {noun} {fields} (check the spelling, or pass --validate=false to drop unknown fields)"
            ),
        });
    }
    out.warnings.push(format!("{location}: dropped unknown fields {fields}"));
    Ok(object)
}

fn path_text(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", path_text(parent)),
        Path::Map { parent, key } => {
            let parent = path_text(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => path_text(parent),
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

macro_rules! object_from {
    ($($kind:ident),*) => {$(
        impl From<$kind> for Object {
            fn from(o: $kind) -> Object {
                Object::$kind(o)
            }
        }
    )*};
}
object_from!(Pod, ReplicationController, Service, Endpoints, Node, Namespace, Event, Dataset);
