//! The Node's `nodeInfo`: kernel, OS, machine and boot ids, architecture, and
//! the versions of the runtime and the kubelet.

use rk_proto::v1::NodeSystemInfo;

/// What a Node reports as its kubelet version.
pub const KUBELET_VERSION: &str = concat!("rk-v", env!("CARGO_PKG_VERSION"));

/// Reads this machine's identity. Files that are missing or unreadable
/// (machine-id on a minimal image, product_uuid without root) leave their
/// field empty, as Kubernetes does: nothing depends on them.
pub fn of_host(container_runtime_version: &str) -> NodeSystemInfo {
    let os_release = read("/etc/os-release").or_else(|| read("/usr/lib/os-release")).unwrap_or_default();
    NodeSystemInfo {
        machine_id: read("/etc/machine-id").unwrap_or_default(),
        system_uuid: read("/sys/class/dmi/id/product_uuid").unwrap_or_default(),
        boot_id: read("/proc/sys/kernel/random/boot_id").unwrap_or_default(),
        kernel_version: read("/proc/sys/kernel/osrelease").unwrap_or_default(),
        os_image: pretty_name(&os_release).unwrap_or_else(|| "Linux".to_string()),
        container_runtime_version: container_runtime_version.to_string(),
        kubelet_version: KUBELET_VERSION.to_string(),
        kube_proxy_version: String::new(),
        operating_system: std::env::consts::OS.to_string(),
        architecture: go_arch(std::env::consts::ARCH).to_string(),
    }
}

/// The file's content without surrounding whitespace; `None` when unreadable or empty.
fn read(path: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// PRETTY_NAME of an os-release file, unquoted.
pub fn pretty_name(os_release: &str) -> Option<String> {
    let value = os_release.lines().find_map(|l| l.trim().strip_prefix("PRETTY_NAME="))?.trim();
    let unquoted =
        ['"', '\''].iter().find_map(|&q| value.strip_prefix(q).and_then(|v| v.strip_suffix(q))).unwrap_or(value);
    // Shell escapes inside double quotes (\" \\ \$ \`), as os-release(5) allows.
    let mut name = String::with_capacity(unquoted.len());
    let mut chars = unquoted.chars();
    while let Some(c) = chars.next() {
        name.push(if c == '\\' { chars.next().unwrap_or(c) } else { c });
    }
    Some(name).filter(|n| !n.is_empty())
}

/// Architecture names as Kubernetes (Go's GOARCH) writes them.
pub fn go_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str =
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n";

    #[test]
    fn pretty_name_is_unquoted() {
        assert_eq!(pretty_name(DEBIAN).as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
        assert_eq!(pretty_name("PRETTY_NAME='Alpine Linux v3.19'\n").as_deref(), Some("Alpine Linux v3.19"));
        assert_eq!(pretty_name("PRETTY_NAME=Arch\n").as_deref(), Some("Arch"));
        assert_eq!(pretty_name("PRETTY_NAME=\"Say \\\"hi\\\"\"\n").as_deref(), Some("Say \"hi\""));
        assert_eq!(pretty_name("NAME=x\n"), None);
        assert_eq!(pretty_name("PRETTY_NAME=\"\"\n"), None);
    }

    #[test]
    fn architectures_have_their_kubernetes_names() {
        assert_eq!(go_arch("x86_64"), "amd64");
        assert_eq!(go_arch("aarch64"), "arm64");
        assert_eq!(go_arch("riscv64"), "riscv64");
    }

    #[test]
    fn this_host_reports_its_kernel_and_os() {
        let info = of_host("docker://20.10.24");
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        assert_eq!(info.kernel_version, kernel.trim());
        assert_eq!(
            (info.operating_system.as_str(), info.container_runtime_version.as_str()),
            ("linux", "docker://20.10.24")
        );
        assert_eq!(info.boot_id.len(), 36, "a uuid: {}", info.boot_id);
        assert!(info.kubelet_version.starts_with("rk-v"));
        assert!(!info.os_image.is_empty());
    }
}
