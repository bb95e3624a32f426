//! deploy/: the provisioning scripts run into scratch roots (what they
//! install and write, a second run changing nothing, bad input refused), the
//! units pass `systemd-analyze verify` there, every flag and variable of a
//! unit exists, and `vagrant validate` accepts the Vagrantfile.

use rk_deploy::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const MASTER_PROGRAMS: &[&str] = &["rk-apiserver", "rk-scheduler", "rk-controller-manager"];
const NODE_PROGRAMS: &[&str] = &["rk-kubelet", "rk-proxy"];
const MASTER_UNITS: &[&str] =
    &["rk-etcd.service", "rk-apiserver.service", "rk-scheduler.service", "rk-controller-manager.service"];
const NODE_UNITS: &[&str] = &["rk-kubelet.service", "rk-proxy.service"];

/// Stand-ins for the built programs (each prints its name), the image
/// programs, a token file, and room for scratch roots.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let fixture = Fixture { dir: TempDir::new().unwrap() };
        for program in MASTER_PROGRAMS.iter().chain(NODE_PROGRAMS).chain(&["rkctl"]) {
            write_program(&fixture.bin_dir().join(program), &format!("#!/bin/sh\necho {program}\n"));
        }
        for program in ["rk-pause", "rk-hello", "rk-guestbook", "rk-visits"] {
            write_program(&fixture.image_dir().join(program), &format!("static {program}"));
        }
        // What else a build directory holds: not programs of an image.
        std::fs::write(fixture.image_dir().join("rk-pause.d"), "deps").unwrap();
        std::fs::create_dir_all(fixture.image_dir().join("deps")).unwrap();
        std::fs::write(fixture.path("token"), format!("{TOKEN}\n")).unwrap();
        fixture
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn bin_dir(&self) -> PathBuf {
        self.path("bin")
    }

    fn image_dir(&self) -> PathBuf {
        self.path("images")
    }

    fn master_args(&self, root: &Path) -> Vec<String> {
        vec![
            format!("--root={}", root.display()),
            "--bin-dir".into(),
            self.bin_dir().display().to_string(),
            "--token-file".into(),
            self.path("token").display().to_string(),
        ]
    }

    fn node_args(&self, root: &Path, name: &str, ip: &str, labels: &str) -> Vec<String> {
        let mut args = vec![
            "--root".to_string(),
            root.display().to_string(),
            "--bin-dir".into(),
            self.bin_dir().display().to_string(),
            format!("--image-dir={}", self.image_dir().display()),
            "--server".into(),
            "192.168.56.10:6443".into(),
            "--node-name".into(),
            name.into(),
            "--node-ip".into(),
            ip.into(),
            "--token-file".into(),
            self.path("token").display().to_string(),
        ];
        args.extend(["--node-labels".to_string(), labels.to_string()]);
        args
    }
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn read(root: &Path, path: &str) -> String {
    let file = root.join(path.trim_start_matches('/'));
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()))
}

fn mode(root: &Path, path: &str) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(root.join(path.trim_start_matches('/'))).unwrap().permissions().mode() & 0o7777
}

/// Checks the units are installed as in deploy/systemd and enabled.
fn assert_units_installed(root: &Path, names: &[&str]) {
    let units = units();
    for name in names {
        assert_eq!(read(root, &format!("/etc/systemd/system/{name}")), units[*name], "{name} differs from deploy/");
        assert_eq!(mode(root, &format!("/etc/systemd/system/{name}")), 0o644);
        let link = root.join("etc/systemd/system/multi-user.target.wants").join(name);
        assert_eq!(
            std::fs::read_link(&link).unwrap_or_else(|e| panic!("{name} is not enabled ({}: {e})", link.display())),
            Path::new("/etc/systemd/system").join(name)
        );
    }
}

/// A second run with the same arguments installs nothing and leaves the root as it was.
fn assert_idempotent(script: &str, args: &[&str], root: &Path) {
    let before = snapshot(root);
    let output = provision(script, args, &[]);
    assert!(!output.contains("installed "), "the second run of {script} installed something:\n{output}");
    assert!(before == snapshot(root), "the second run of {script} changed the root");
}

#[test]
fn the_master_gets_its_programs_units_and_settings() {
    let fixture = Fixture::new();
    let root = fixture.path("master");
    let mut args = fixture.master_args(&root);
    args.extend(["--cluster-cidr=10.250.0.0/16", "--node-monitor-grace-period", "10"].map(String::from));
    let output = provision("master.sh", &strs(&args), &[]);
    assert!(output.contains("--root: not installing Debian packages (etcd-server)"), "{output}");

    let expected: BTreeSet<String> = [
        "usr/local/bin/rk-apiserver",
        "usr/local/bin/rk-scheduler",
        "usr/local/bin/rk-controller-manager",
        "usr/local/bin/rkctl",
        "etc/systemd/system/rk-etcd.service",
        "etc/systemd/system/rk-apiserver.service",
        "etc/systemd/system/rk-scheduler.service",
        "etc/systemd/system/rk-controller-manager.service",
        "etc/rk/kubelet-token",
        "etc/rk/etcd.env",
        "etc/rk/apiserver.env",
        "etc/rk/scheduler.env",
        "etc/rk/controller-manager.env",
    ]
    .map(String::from)
    .into();
    assert_eq!(files(&snapshot(&root)), expected);
    for program in MASTER_PROGRAMS.iter().chain(&["rkctl"]) {
        let installed = format!("/usr/local/bin/{program}");
        assert_eq!(read(&root, &installed), std::fs::read_to_string(fixture.bin_dir().join(program)).unwrap());
        assert_eq!(mode(&root, &installed), 0o755);
    }
    assert_units_installed(&root, MASTER_UNITS);

    assert_eq!(read(&root, "/etc/rk/kubelet-token").trim(), TOKEN);
    assert_eq!(mode(&root, "/etc/rk/kubelet-token"), 0o600, "the token is for root only");
    let etcd = env_file(&root, "/etc/rk/etcd.env");
    assert_eq!(etcd["ETCD_DATA_DIR"], "/var/lib/rk-etcd");
    assert_eq!(etcd["ETCD_LISTEN_CLIENT_URLS"], "http://127.0.0.1:2379", "etcd is for the apiserver alone");
    let apiserver = env_file(&root, "/etc/rk/apiserver.env");
    assert_eq!(apiserver["RK_ETCD_SERVERS"], "http://127.0.0.1:2379");
    assert_eq!(apiserver["RK_APISERVER_LISTEN"], "0.0.0.0:6443", "nodes reach the apiserver");
    assert_eq!(apiserver["RK_SERVICE_CLUSTER_IP_RANGE"], "10.96.0.0/16");
    assert_eq!(env_file(&root, "/etc/rk/scheduler.env")["RK_SERVER"], "127.0.0.1:6443");
    let controller_manager = env_file(&root, "/etc/rk/controller-manager.env");
    assert_eq!(controller_manager["RK_CLUSTER_CIDR"], "10.250.0.0/16");
    assert_eq!(controller_manager["RK_NODE_MONITOR_GRACE_PERIOD"], "10");
    assert_eq!(controller_manager["RK_POD_EVICTION_TIMEOUT"], "300");

    assert_idempotent("master.sh", &strs(&args), &root);
}

#[test]
fn the_master_makes_a_token_once_and_keeps_it() {
    let fixture = Fixture::new();
    let root = fixture.path("master");
    let bin = fixture.bin_dir();
    let args = ["--root", root.to_str().unwrap(), "--bin-dir", bin.to_str().unwrap()];
    let output = provision("master.sh", &args, &[]);
    assert!(output.contains("made a new kubelet token"), "{output}");
    let token = read(&root, "/etc/rk/kubelet-token").trim().to_string();
    assert!(token.len() == 48 && token.chars().all(|c| c.is_ascii_hexdigit()), "token {token:?}");
    assert_idempotent("master.sh", &args, &root);
    assert_eq!(read(&root, "/etc/rk/kubelet-token").trim(), token);
    // RK_KUBELET_TOKEN replaces it, and the apiserver is restarted for it on a real machine.
    let output = provision("master.sh", &args, &[("RK_KUBELET_TOKEN", TOKEN)]);
    assert!(output.contains("installed /etc/rk/kubelet-token"), "{output}");
    assert_eq!(read(&root, "/etc/rk/kubelet-token").trim(), TOKEN);
}

#[test]
fn each_node_gets_its_labels_programs_units_and_settings() {
    let fixture = Fixture::new();
    for (name, ip, labels) in
        [("node1", "192.168.56.11", "disktype=spinning"), ("node2", "192.168.56.12", "disktype=ssd")]
    {
        let root = fixture.path(name);
        let args = fixture.node_args(&root, name, ip, labels);
        let output = provision("node.sh", &strs(&args), &[]);
        assert!(
            output.contains(
                "not installing Debian packages (docker.io iptables iproute2 conntrack busybox-static redis-server)"
            ),
            "{output}"
        );
        let expected: BTreeSet<String> = [
            "usr/local/bin/rk-kubelet",
            "usr/local/bin/rk-proxy",
            "usr/local/bin/rkctl",
            "usr/lib/rk/images/rk-pause",
            "usr/lib/rk/images/rk-hello",
            "usr/lib/rk/images/rk-guestbook",
            "usr/lib/rk/images/rk-visits",
            "etc/systemd/system/rk-kubelet.service",
            "etc/systemd/system/rk-proxy.service",
            "etc/rk/kubelet-token",
            "etc/rk/kubelet.env",
            "etc/rk/proxy.env",
        ]
        .map(String::from)
        .into();
        assert_eq!(files(&snapshot(&root)), expected, "{name}");
        for program in NODE_PROGRAMS {
            let installed = format!("/usr/local/bin/{program}");
            assert_eq!(read(&root, &installed), std::fs::read_to_string(fixture.bin_dir().join(program)).unwrap());
            assert_eq!(mode(&root, &installed), 0o755);
        }
        for program in ["rk-pause", "rk-hello", "rk-guestbook", "rk-visits"] {
            let installed = format!("/usr/lib/rk/images/{program}");
            assert_eq!(read(&root, &installed), format!("static {program}"));
            assert_eq!(mode(&root, &installed), 0o755);
        }
        assert_units_installed(&root, NODE_UNITS);
        assert_eq!(read(&root, "/etc/rk/kubelet-token").trim(), TOKEN);
        assert_eq!(mode(&root, "/etc/rk/kubelet-token"), 0o600);

        let kubelet = env_file(&root, "/etc/rk/kubelet.env");
        assert_eq!(kubelet["RK_NODE_LABELS"], labels);
        assert_eq!(kubelet["RK_NODE_NAME"], name);
        assert_eq!(kubelet["RK_NODE_IP"], ip);
        assert_eq!(kubelet["RK_SERVER"], "192.168.56.10:6443");
        assert_eq!(kubelet["RK_KUBELET_STREAMING_LISTEN"], format!("{ip}:10250"), "the apiserver reaches it there");
        assert_eq!(kubelet["RK_CLUSTER_CIDR"], "10.244.0.0/16");
        assert_eq!(kubelet["RK_KUBELET_ARGS"], "--pod-routes", "nodes on one network route pods host-gw style");
        let proxy = env_file(&root, "/etc/rk/proxy.env");
        assert_eq!((proxy["RK_NODE_NAME"].as_str(), proxy["RK_NODE_IP"].as_str()), (name, ip));
        assert_eq!(proxy["RK_SERVICE_CLUSTER_IP_RANGE"], "10.96.0.0/16");

        assert_idempotent("node.sh", &strs(&args), &root);
    }
}

#[test]
fn a_changed_setting_is_rewritten_and_nothing_else() {
    let fixture = Fixture::new();
    let root = fixture.path("node1");
    provision("node.sh", &strs(&fixture.node_args(&root, "node1", "192.168.56.11", "disktype=spinning")), &[]);
    let mut args = fixture.node_args(&root, "node1", "192.168.56.11", "disktype=ssd,zone=a");
    args.push("--no-pod-routes".into());
    let output = provision("node.sh", &strs(&args), &[]);
    let installed: Vec<&str> = output.lines().filter(|line| line.contains("installed ")).collect();
    assert_eq!(installed, ["node.sh: installed /etc/rk/kubelet.env"], "{output}");
    let kubelet = env_file(&root, "/etc/rk/kubelet.env");
    assert_eq!((kubelet["RK_NODE_LABELS"].as_str(), kubelet["RK_KUBELET_ARGS"].as_str()), ("disktype=ssd,zone=a", ""));
}

#[test]
fn bad_input_is_refused_with_what_is_allowed() {
    let fixture = Fixture::new();
    let root = fixture.path("root");
    let root_arg = format!("--root={}", root.display());
    let bin = fixture.bin_dir().display().to_string();
    let incomplete = fixture.path("incomplete");
    write_program(&incomplete.join("rk-apiserver"), "");
    write_program(&incomplete.join("rk-kubelet"), "");
    write_program(&incomplete.join("rk-proxy"), "");
    write_program(&incomplete.join("rk-pause"), "");
    std::fs::write(fixture.path("short-token"), "short\n").unwrap();
    let incomplete = incomplete.display().to_string();
    let short_token = fixture.path("short-token").display().to_string();
    let master = |extra: &[&str]| -> Vec<String> {
        [root_arg.as_str(), "--bin-dir", bin.as_str()].iter().chain(extra).map(|arg| arg.to_string()).collect()
    };
    let node_args = fixture.node_args(&root, "node1", "192.168.56.11", "disktype=ssd");
    let node = |replace: &[(&str, &str)]| -> Vec<String> {
        let mut args = node_args.clone();
        for (flag, value) in replace {
            match args.iter().position(|arg| arg == flag) {
                Some(at) if value.is_empty() => {
                    args.drain(at..at + 2);
                }
                Some(at) => args[at + 1] = value.to_string(),
                None => args.extend([flag.to_string(), value.to_string()]),
            }
        }
        args
    };
    let node_without_token: Vec<String> = node(&[("--token-file", "")]);
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        ("master.sh", vec![root_arg.clone()], "--bin-dir DIR is required"),
        ("master.sh", (master(&["--bin-dir", "/nonexistent/rk"])), "--bin-dir /nonexistent/rk: no such directory"),
        ("master.sh", strings(&[&root_arg, "--bin-dir", &incomplete]), "rk-scheduler is missing or not executable"),
        ("master.sh", (master(&["--cluster-cidr", "10.0.0.0/40"])), "expected an IPv4 CIDR like 10.244.0.0/16"),
        ("master.sh", (master(&["--service-node-port-range", "32767-30000"])), "expected FIRST-LAST"),
        ("master.sh", (master(&["--pod-eviction-timeout", "5m"])), "expected a whole number of seconds"),
        ("master.sh", (master(&["--frobnicate"])), "unknown argument --frobnicate"),
        ("master.sh", (master(&["--token-file", &short_token])), "at least 16 characters"),
        ("master.sh", (master(&["--token-file"])), "--token-file needs a value"),
        ("master.sh", strings(&["--root", "/", "--bin-dir", &bin]), "--root / is this machine itself"),
        (
            "node.sh",
            node(&[("--node-labels", "disktype")]),
            "\"disktype\" is not key=value; labels look like disktype=ssd",
        ),
        ("node.sh", node(&[("--node-labels", "disk type=ssd")]), "key \"disk type\" is not allowed"),
        ("node.sh", node(&[("--node-labels", "disktype=-ssd")]), "value \"-ssd\" of \"disktype\" is not allowed"),
        ("node.sh", node(&[("--node-labels", "disktype=ssd,")]), "ends with ','"),
        ("node.sh", node(&[("--node-labels", "Example.com/disk=ssd")]), "is not a DNS name"),
        ("node.sh", node(&[("--node-ip", "300.1.1.1")]), "--node-ip 300.1.1.1: expected an IPv4 address"),
        ("node.sh", node(&[("--node-ip", "")]), "--node-ip is required with --root"),
        ("node.sh", node(&[("--server", "192.168.56.10")]), "expected HOST:PORT"),
        ("node.sh", node(&[("--server", "")]), "--server HOST:PORT is required"),
        ("node.sh", node(&[("--node-name", "Node_1")]), "--node-name Node_1: expected lower-case letters"),
        ("node.sh", node(&[("--image-dir", &incomplete)]), "rk-hello is missing or not executable"),
        ("node.sh", node(&[("--bin-dir", "")]), "--bin-dir DIR is required"),
        ("node.sh", node_without_token, "the kubelet token is required"),
    ];
    for (script, args, message) in cases {
        let output = run_script(script, &strs(&args), &[]);
        let text = describe(&output);
        assert_eq!(output.status.code(), Some(2), "{script} {args:?} should fail:\n{text}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{script} {args:?}: expected {message:?} in:\n{text}");
        assert!(stderr.starts_with(&format!("{script}: error: ")), "{text}");
        assert!(!root.exists() || snapshot(&root).is_empty(), "{script} {args:?} wrote files before failing");
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|arg| arg.to_string()).collect()
}

/// A scratch root with the master's and a node's files, plus what Debian's
/// packages would bring: systemd's own units (from this machine), docker.service and etcd.
fn provisioned_root(fixture: &Fixture) -> PathBuf {
    let root = fixture.path("machine");
    provision("master.sh", &strs(&fixture.master_args(&root)), &[]);
    provision("node.sh", &strs(&fixture.node_args(&root, "node1", "192.168.56.11", "disktype=spinning")), &[]);
    root
}

#[test]
fn every_unit_passes_systemd_analyze_verify() {
    let fixture = Fixture::new();
    let root = provisioned_root(&fixture);
    let system_units = Path::new("/usr/lib/systemd/system");
    assert!(
        system_units.join("multi-user.target").exists(),
        "{} has no multi-user.target: install systemd (scripts/setup does)",
        system_units.display()
    );
    let units_dir = root.join("usr/lib/systemd/system");
    std::fs::create_dir_all(root.join("usr/lib/systemd")).unwrap();
    let copy = Command::new("cp").arg("-a").arg(system_units).arg(root.join("usr/lib/systemd")).status().unwrap();
    assert!(copy.success(), "copying {}", system_units.display());
    // What etcd-server and docker.io install.
    write_program(&root.join("usr/bin/etcd"), "#!/bin/sh\n");
    write_program(&root.join("usr/bin/dockerd"), "#!/bin/sh\n");
    if !units_dir.join("docker.service").exists() {
        std::fs::write(
            units_dir.join("docker.service"),
            "[Unit]\nDescription=Docker\n[Service]\nExecStart=/usr/bin/dockerd\n[Install]\nWantedBy=multi-user.target\n",
        )
        .unwrap();
    }
    let names: Vec<&str> = MASTER_UNITS.iter().chain(NODE_UNITS).copied().collect();
    assert_eq!(names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>(), units().into_keys().collect());
    let output = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(format!("--root={}", root.display()))
        .args(&names)
        .output()
        .expect("running systemd-analyze: install systemd (scripts/setup does)");
    let text = describe(&output);
    assert!(output.status.success(), "systemd-analyze verify failed:\n{text}");
    assert!(output.stdout.is_empty() && output.stderr.is_empty(), "systemd-analyze verify warned:\n{text}");
}

/// Which crate's main.rs declares a unit's program's flags.
fn crate_of(program: &str) -> Option<&'static str> {
    match program {
        "/usr/local/bin/rk-apiserver" => Some("apiserver"),
        "/usr/local/bin/rk-scheduler" => Some("scheduler"),
        "/usr/local/bin/rk-controller-manager" => Some("controller-manager"),
        "/usr/local/bin/rk-kubelet" => Some("kubelet"),
        "/usr/local/bin/rk-proxy" => Some("proxy"),
        _ => None,
    }
}

#[test]
fn every_flag_and_variable_of_a_unit_exists() {
    let fixture = Fixture::new();
    let root = provisioned_root(&fixture);
    for (name, unit) in units() {
        for key in ["Restart", "EnvironmentFile", "ExecStart", "WantedBy"] {
            assert_eq!(directive(&unit, key).len(), 1, "{name} has no single {key}=");
        }
        assert_eq!(directive(&unit, "Restart"), ["on-failure"], "{name}");
        let env_path = &directive(&unit, "EnvironmentFile")[0];
        assert!(env_path.starts_with("/etc/rk/"), "{name}: {env_path}");
        let env = env_file(&root, env_path);
        let exec = &directive(&unit, "ExecStart")[0];
        for variable in variables(exec) {
            assert!(env.contains_key(&variable), "{name} uses ${variable}, which {env_path} does not set");
        }
        let program = exec.split_whitespace().next().unwrap();
        if let Some(crate_dir) = crate_of(program) {
            let declared = declared_flags(crate_dir);
            // Flags in the unit and in the *_ARGS variables the scripts write.
            let extra = env.iter().filter(|(key, _)| key.ends_with("_ARGS")).map(|(_, value)| value.as_str());
            for flag in extra.flat_map(flags).chain(flags(exec)) {
                assert!(
                    declared.contains(&flag),
                    "{name} passes {flag}, which {crate_dir}/src/main.rs does not declare"
                );
            }
        } else {
            assert_eq!(program, "/usr/bin/etcd", "{name}: an unknown program");
        }
    }
    // Ordering: the apiserver after etcd, the control loops after the apiserver, nodes after Docker.
    let units = units();
    let after = |name: &str| directive(&units[name], "After").join(" ");
    assert!(after("rk-apiserver.service").contains("rk-etcd.service"));
    for name in ["rk-scheduler.service", "rk-controller-manager.service", "rk-kubelet.service"] {
        assert!(after(name).contains("rk-apiserver.service"), "{name}");
    }
    for name in ["rk-kubelet.service", "rk-proxy.service"] {
        assert!(after(name).contains("docker.service") && after(name).contains("network-online.target"), "{name}");
    }
    assert_eq!(directive(&units["rk-kubelet.service"], "Requires"), ["docker.service"]);
}

#[test]
fn vagrant_validate_accepts_the_vagrantfile() {
    let vagrantfile = std::fs::read_to_string(repo_dir().join("Vagrantfile")).unwrap();
    for needed in ["disktype=spinning", "disktype=ssd", "private_network", "deploy/provision/master.sh", "node.sh"] {
        assert!(vagrantfile.contains(needed), "the Vagrantfile does not mention {needed}");
    }
    if Command::new("vagrant").arg("--version").env("VAGRANT_CHECKPOINT_DISABLE", "1").output().is_err() {
        println!(
            "SKIPPED vagrant validate: vagrant is not installed (Debian's vagrant package; scripts/setup installs it)"
        );
        return;
    }
    // A copy, so Vagrant's .vagrant/ directory and token stay out of the checkout.
    let dir = TempDir::new().unwrap();
    std::fs::copy(repo_dir().join("Vagrantfile"), dir.path().join("Vagrantfile")).unwrap();
    std::fs::create_dir_all(dir.path().join("deploy")).unwrap();
    let copy = Command::new("cp")
        .arg("-r")
        .arg(deploy_dir().join("provision"))
        .arg(deploy_dir().join("systemd"))
        .arg(dir.path().join("deploy"))
        .status()
        .unwrap();
    assert!(copy.success());
    // VirtualBox cannot run here: --ignore-provider validates everything but the provider's settings.
    let output = Command::new("vagrant")
        .args(["validate", "--ignore-provider"])
        .current_dir(dir.path())
        .env("VAGRANT_CHECKPOINT_DISABLE", "1")
        .env("VAGRANT_HOME", dir.path().join("vagrant-home"))
        .env_remove("VAGRANT_DOTFILE_PATH")
        .env_remove("VAGRANT_CWD")
        .output()
        .unwrap();
    let text = describe(&output);
    assert!(output.status.success(), "vagrant validate failed:\n{text}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("Vagrantfile validated successfully"), "{text}");
}
