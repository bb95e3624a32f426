//! Manifests as people write them, and hostile ones, through the decoder.

use rk_proto::manifest::{decode_manifests, DecodeOptions, ManifestError, Object, MAX_MANIFEST_BYTES};
use std::time::{Duration, Instant};

fn decode(text: &str) -> Result<Vec<Object>, ManifestError> {
    decode_manifests(text, DecodeOptions::default()).map(|d| d.objects)
}

fn error(text: &str) -> String {
    decode(text).unwrap_err().to_string()
}

const RC_YAML: &str = r#"
apiVersion: v1
kind: ReplicationController
metadata:
  name: web
  creationTimestamp: null
spec:
  replicas: 3
  selector: {app: web}
  template:
    metadata:
      labels: {app: web}
      creationTimestamp: null
    spec:
      containers:
      - name: web
        image: hello:1.0
        resources:
          requests: {cpu: 0.5, memory: 128Mi}
          limits: {cpu: "1", memory: 256974848}
        ports:
        - {name: http, containerPort: 8080}
        readinessProbe:
          httpGet: {path: /, port: http}
status: {}
"#;

#[test]
fn kubernetes_yaml_with_nulls_numbers_and_empty_status_decodes() {
    let objects = decode(RC_YAML).unwrap();
    let [Object::ReplicationController(rc)] = objects.as_slice() else { panic!("{objects:?}") };
    let spec = rc.spec.as_ref().unwrap();
    assert_eq!(spec.replicas, Some(3));
    let container = &spec.template.as_ref().unwrap().spec.as_ref().unwrap().containers[0];
    let resources = container.resources.as_ref().unwrap();
    assert_eq!(resources.requests["cpu"], "0.5");
    assert_eq!(resources.requests["memory"], "128Mi");
    assert_eq!(resources.limits["memory"], "256974848");
    let probe_port = container.readiness_probe.as_ref().unwrap().http_get.as_ref().unwrap().port.as_ref().unwrap();
    assert_eq!(probe_port.as_name(), Some("http"));
}

#[test]
fn json_yaml_multi_document_and_lists_all_decode() {
    let json = r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"port":80,"targetPort":8080}],"clusterIP":"10.96.0.5","externalIPs":["1.2.3.4"]}}"#;
    let objects = decode(json).unwrap();
    let [Object::Service(service)] = objects.as_slice() else { panic!("{objects:?}") };
    let spec = service.spec.clone().unwrap();
    assert_eq!(spec.cluster_ip, "10.96.0.5");
    assert_eq!(spec.external_ips, vec!["1.2.3.4"]);
    assert_eq!(spec.ports[0].target_port.as_ref().unwrap().int_val, 8080);

    let multi = format!("---\n{RC_YAML}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: team}}\n---\n");
    let kinds: Vec<_> = decode(&multi).unwrap().iter().map(Object::kind).collect();
    assert_eq!(kinds, vec!["ReplicationController", "Namespace"]);

    let list = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n- {apiVersion: v1, kind: Node, metadata: {name: n}}\n";
    let kinds: Vec<_> = decode(list).unwrap().iter().map(Object::kind).collect();
    assert_eq!(kinds, vec!["Namespace", "Node"]);
}

#[test]
fn output_json_uses_kubernetes_names_and_round_trips() {
    let objects = decode(RC_YAML).unwrap();
    let Object::ReplicationController(rc) = &objects[0] else { panic!() };
    let json = serde_json::to_string(rc).unwrap();
    assert!(json.contains("\"containerPort\":8080") && json.contains("\"readinessProbe\""), "{json}");
    assert!(!json.contains("creationTimestamp"), "unset fields are left out: {json}");
    assert_eq!(decode(&json).unwrap(), objects);
    let yaml = yaml_serde::to_string(rc).unwrap();
    assert_eq!(decode(&yaml).unwrap(), objects);
}

#[test]
fn unknown_fields_are_named_or_dropped_with_a_warning() {
    let typo = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: x, imagePullPolicyy: Always}\n  restartPolicyy: Never\n";
    let message = error(typo);
    assert!(message.contains("\"spec.containers[0].imagePullPolicyy\""), "{message}");
    assert!(message.contains("\"spec.restartPolicyy\""), "{message}");
    assert!(message.contains("--validate=false"), "{message}");
    let lax = decode_manifests(typo, DecodeOptions { validate: false }).unwrap();
    assert_eq!(lax.objects.len(), 1);
    assert!(lax.warnings[0].contains("imagePullPolicyy"), "{:?}", lax.warnings);
}

#[test]
fn wrong_versions_kinds_and_types_say_what_is_allowed() {
    let old = error("apiVersion: v1beta3\nkind: Pod\nmetadata: {name: p}\n");
    assert!(old.contains("\"v1beta3\"") && old.contains("rk serves apiVersion v1 only"), "{old}");
    let missing = error("kind: Pod\nmetadata: {name: p}\n");
    assert!(missing.contains("no apiVersion"), "{missing}");
    let kind = error("apiVersion: v1\nkind: Deployment\nmetadata: {name: d}\n");
    assert!(kind.contains("\"Deployment\" is not served") && kind.contains("ReplicationController"), "{kind}");
    let wrong_type = error("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x, ports: [{containerPort: eighty}]}]}\n");
    assert!(wrong_type.contains("spec.containers[0].ports[0].containerPort"), "{wrong_type}");
    assert!(error("").contains("no objects"));
    assert!(error("just a string").contains("expected an object"));
    assert!(error("{not json").contains("not valid JSON"));
}

/// Hostile input must fail fast without using much memory.
fn refused_quickly(text: &str) -> String {
    let started = Instant::now();
    let message = error(text);
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    message
}

#[test]
fn deep_nesting_is_refused() {
    // Far past the parsers' recursion limit (128), small enough to be quick in a debug build.
    let depth = 10_000;
    let json = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(refused_quickly(&json).contains("recursion limit"));
    let yaml = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    refused_quickly(&yaml);
}

#[test]
fn huge_documents_are_refused_before_parsing() {
    let huge = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {{a: \"{}\"}}\n",
        "x".repeat(MAX_MANIFEST_BYTES)
    );
    let message = refused_quickly(&huge);
    assert!(message.contains("manifests of at most"), "{message}");
}

#[test]
fn yaml_alias_bombs_are_refused() {
    let bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n\
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n\
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n\
        h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\napiVersion: v1\nkind: Pod\n";
    let message = refused_quickly(bomb);
    assert!(message.contains("not valid YAML"), "{message}");
}
