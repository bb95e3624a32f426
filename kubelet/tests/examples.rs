//! The manifests under `examples/`: each directory (a walkthrough; the
//! top-level files are the README's) decodes as rkctl decodes it, names only
//! images the kubelet builds, and is accepted, in file order, by a real
//! apiserver (what `rkctl create -f DIR` sends).

use std::path::{Path, PathBuf};

use rk_kubelet::images::PROJECT_IMAGES;
use rk_proto::manifest::{decode_manifests, DecodeOptions, Object};
use rk_proto::v1::{PodSpec, ReplicationController, Service};
use rk_proto::with_object;
use rk_test_api::TestApi;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the kubelet sits in the workspace").join("examples")
}

/// The objects of `dir`'s manifests, in the order `rkctl create -f DIR` reads them.
fn decode_dir(dir: &Path) -> Vec<Object> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no manifests", dir.display());
    files
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            let decoded =
                decode_manifests(&text, DecodeOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert!(decoded.warnings.is_empty(), "{}: {:?}", file.display(), decoded.warnings);
            decoded.objects
        })
        .collect()
}

fn pod_spec(object: &Object) -> Option<&PodSpec> {
    match object {
        Object::Pod(pod) => pod.spec.as_ref(),
        Object::ReplicationController(rc) => rc.spec.as_ref()?.template.as_ref()?.spec.as_ref(),
        _ => None,
    }
}

/// Creates the walkthrough's objects on a fresh apiserver; returns what it stored.
async fn create_walkthrough(name: &str) -> Vec<Object> {
    let dir = if name.is_empty() { examples() } else { examples().join(name) };
    let objects = decode_dir(&dir);
    for object in &objects {
        for container in pod_spec(object).map(|spec| spec.containers.as_slice()).unwrap_or_default() {
            let image = container.image.as_str();
            assert!(PROJECT_IMAGES.contains(&image), "{}: {image} is not one of rk's images", dir.display());
        }
    }
    let api = TestApi::start().await;
    let mut created = Vec::new();
    for object in objects {
        let stored = with_object!(object, o => {
            let mut o = o;
            if rk_proto::Resource::metadata(&o).namespace.is_empty() && is_namespaced(&o) {
                rk_proto::Resource::metadata_mut(&mut o).namespace = "default".to_string();
            }
            let name = rk_proto::Resource::metadata(&o).name.clone();
            let stored = api.client.create(o).await.unwrap_or_else(|e| panic!("{}: {name}: {e}", dir.display()));
            Object::from(stored)
        });
        created.push(stored);
    }
    created
}

fn is_namespaced<R: rk_proto::Resource>(_: &R) -> bool {
    R::NAMESPACED
}

fn service<'a>(objects: &'a [Object], name: &str) -> &'a Service {
    objects
        .iter()
        .find_map(|object| match object {
            Object::Service(service) if service.metadata.as_ref().is_some_and(|m| m.name == name) => Some(service),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no Service {name}"))
}

fn controller<'a>(objects: &'a [Object], name: &str) -> &'a ReplicationController {
    objects
        .iter()
        .find_map(|object| match object {
            Object::ReplicationController(rc) if rc.metadata.as_ref().is_some_and(|m| m.name == name) => Some(rc),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no ReplicationController {name}"))
}

/// Whether the Service of this name was created before every pod and
/// controller (pods get variables only for Services that exist when they start).
fn service_comes_first(objects: &[Object], name: &str) -> bool {
    let position = |matches: &dyn Fn(&Object) -> bool| objects.iter().position(matches);
    let service = position(&|o| matches!(o, Object::Service(s) if s.metadata.as_ref().unwrap().name == name));
    let first_pod = position(&|o| matches!(o, Object::Pod(_) | Object::ReplicationController(_)));
    service.is_some() && service < first_pod
}

#[tokio::test]
async fn the_readme_examples_are_accepted() {
    let objects = create_walkthrough("").await;
    assert_eq!(objects.len(), 3);
}

#[tokio::test]
async fn the_guestbook_is_accepted_with_redis_on_a_spinning_disk() {
    let objects = create_walkthrough("guestbook").await;
    assert!(service_comes_first(&objects, "redis-master"));
    assert_eq!(service(&objects, "redis-master").spec.as_ref().unwrap().ports[0].port, 6379);
    assert_eq!(service(&objects, "frontend").spec.as_ref().unwrap().r#type, "NodePort");
    let redis = controller(&objects, "redis-master").spec.as_ref().unwrap();
    assert_eq!(redis.replicas, Some(1));
    let template = redis.template.as_ref().unwrap().spec.as_ref().unwrap();
    assert_eq!(template.node_selector.get("disktype").map(String::as_str), Some("spinning"));
    assert_eq!(template.containers[0].image, "rk/redis:7");
    assert_eq!(controller(&objects, "frontend").spec.as_ref().unwrap().replicas, Some(3));
}

#[tokio::test]
async fn the_hello_walkthrough_is_accepted_in_its_namespace() {
    let objects = create_walkthrough("hello").await;
    assert!(matches!(&objects[0], Object::Namespace(_)), "the namespace comes first");
    assert!(service_comes_first(&objects, "hello"));
    for object in &objects[1..] {
        assert_eq!(object.metadata().namespace, "hello", "{}", object.metadata().name);
    }
    assert_eq!(controller(&objects, "hello").spec.as_ref().unwrap().replicas, Some(1));
}

#[tokio::test]
async fn the_web_servers_and_database_are_accepted() {
    let objects = create_walkthrough("visits").await;
    assert!(service_comes_first(&objects, "db-service"));
    let web = service(&objects, "web").spec.as_ref().unwrap();
    assert_eq!((web.r#type.as_str(), web.ports[0].node_port), ("NodePort", 30001));
    assert_eq!(controller(&objects, "web").spec.as_ref().unwrap().replicas, Some(3));
    let db = objects.iter().find(|o| matches!(o, Object::Pod(_))).and_then(pod_spec).unwrap();
    assert!(db.volumes[0].host_path.is_some(), "the database keeps its data on the node");
    assert_eq!(db.containers[0].volume_mounts[0].mount_path, "/data");
}

#[tokio::test]
async fn the_multi_container_pods_are_accepted() {
    let objects = create_walkthrough("multi-container").await;
    assert_eq!(service(&objects, "cached-guestbook").spec.as_ref().unwrap().r#type, "LoadBalancer");
    let rc = controller(&objects, "cached-guestbook").spec.as_ref().unwrap();
    assert_eq!(rc.replicas, Some(3));
    let containers = &rc.template.as_ref().unwrap().spec.as_ref().unwrap().containers;
    let images: Vec<&str> = containers.iter().map(|c| c.image.as_str()).collect();
    assert_eq!(images, ["rk/guestbook:1.0", "rk/redis:7"]);
    let app = &containers[0];
    let limits = &app.resources.as_ref().unwrap().limits;
    let cpu = rk_proto::quantity::parse(&limits["cpu"]).unwrap();
    assert_eq!(cpu, rk_proto::quantity::parse("500m").unwrap(), "cpu: 0.5");
    assert!(app.env.iter().any(|var| var.name == "REDIS_ADDRESS" && var.value == "127.0.0.1:6379"));
}
