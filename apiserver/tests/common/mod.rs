//! What the apiserver's API tests share besides `rk_test_api::TestApi`.

/// Parses a manifest into one typed object.
pub fn object<R: rk_proto::Resource>(yaml: &str) -> R {
    let decoded = rk_proto::decode_manifests(yaml, Default::default()).expect("test manifest decodes");
    let value =
        rk_proto::with_object!(decoded.objects.into_iter().next().unwrap(), o => serde_json::to_value(o).unwrap());
    serde_json::from_value(value).unwrap()
}
