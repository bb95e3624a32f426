//! Kind names as users type them: `po`, `pod`, `pods`, `Pod`.

use rk_proto::v1::*;
use rk_proto::Resource;

/// (KIND, plural, singular, short names, namespaced) of every served kind, for api-resources.
pub fn all() -> Vec<(&'static str, &'static str, &'static [&'static str], bool)> {
    fn entry<R: Resource>() -> (&'static str, &'static str, &'static [&'static str], bool) {
        (R::KIND, R::PLURAL, R::SHORT_NAMES, R::NAMESPACED)
    }
    vec![
        entry::<Dataset>(),
        entry::<Endpoints>(),
        entry::<Event>(),
        entry::<Namespace>(),
        entry::<Node>(),
        entry::<Pod>(),
        entry::<ReplicationController>(),
        entry::<Service>(),
    ]
}

/// Resolves what the user typed to a KIND, or says what is accepted.
pub fn resolve(name: &str) -> anyhow::Result<&'static str> {
    let lower = name.to_ascii_lowercase();
    let found = all().into_iter().find(|(kind, plural, short, _)| {
        kind.to_ascii_lowercase() == lower || *plural == lower || short.contains(&lower.as_str())
    });
    match found {
        Some((kind, ..)) => Ok(kind),
        None => anyhow::bail!(
            "the server doesn't have a resource type {name:?} (rk serves: {}; see `rkctl api-resources`)",
            all().iter().map(|(_, plural, ..)| *plural).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// `pods/web` or `pod/web` style arguments: (KIND, name).
pub fn split_kind_name(arg: &str) -> Option<anyhow::Result<(&'static str, String)>> {
    let (kind, name) = arg.split_once('/')?;
    Some(resolve(kind).map(|k| (k, name.to_string())))
}
