#!/usr/bin/env bash
# Provisions an rk node on Debian: Docker, rk-kubelet and rk-proxy, each a
# systemd unit (deploy/systemd) with its settings in /etc/rk/*.env, and the
# static programs rk's own images are built from. Safe to run again: files that
# are already right stay as they are, and only units whose files changed are
# restarted.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'EOF'
Usage: node.sh --bin-dir DIR --image-dir DIR --server HOST:PORT [options]

Installs Docker (docker.io), iptables, conntrack, busybox-static and
redis-server (its programs only: its service is disabled); rk-kubelet and
rk-proxy from DIR into /usr/local/bin, the image programs into
/usr/lib/rk/images, the units into /etc/systemd/system and their settings into
/etc/rk; then enables and starts docker, rk-kubelet and rk-proxy.

  --bin-dir DIR           rk-kubelet, rk-proxy (and rkctl, if there) as built by
                          `cargo build --release` (target/release); or RK_BIN_DIR
  --image-dir DIR         rk-pause, rk-hello, rk-guestbook, rk-visits (the kubelet
                          builds its images from them), as printed by
                          scripts/build-images; or RK_IMAGE_DIR
  --server HOST:PORT      the apiserver, e.g. 192.168.56.10:6443; or RK_SERVER
  --node-name NAME        the Node's name (default: this machine's hostname)
  --node-ip IP            the node's address on the cluster network: the apiserver
                          reaches the kubelet there and other nodes route pods to it
                          (default: this machine's source address towards --server)
  --node-labels K=V,...   labels of the Node, e.g. disktype=ssd
  --service-cluster-ip-range CIDR   as on the master (10.96.0.0/16)
  --cluster-cidr CIDR     as on the master (10.244.0.0/16)
  --no-pod-routes         do not route other nodes' pod CIDRs through their node IPs
                          (by default nodes share a network and route host-gw style)
  --token-file FILE       the master's /etc/rk/kubelet-token (also RK_KUBELET_TOKEN);
                          default: keep the one an earlier run installed
  --root DIR              write everything under DIR instead of /; no apt-get,
                          no systemctl (units are only linked as enabled)
  -h, --help              this help
EOF
}

bin_dir=${RK_BIN_DIR:-}
image_dir=${RK_IMAGE_DIR:-}
server=${RK_SERVER:-}
node_name=""
node_ip=""
node_labels=""
service_range=10.96.0.0/16
cluster_cidr=10.244.0.0/16
pod_routes=yes
token_file=""

OPTION_VARIABLES=(
  [--bin-dir]=bin_dir
  [--image-dir]=image_dir
  [--server]=server
  [--node-name]=node_name
  [--node-ip]=node_ip
  [--node-labels]=node_labels
  [--service-cluster-ip-range]=service_range
  [--cluster-cidr]=cluster_cidr
  [--token-file]=token_file
)
# An empty --node-labels is allowed: no labels.
OPTIONS_MAY_BE_EMPTY=([--node-labels]="a value like disktype=ssd")
SWITCH_OPTIONS=([--no-pod-routes]=pod_routes=no)
parse_options "$@"

require_real_root
check_program_dir --bin-dir "$bin_dir" rk-kubelet rk-proxy
check_program_dir --image-dir "$image_dir" rk-pause rk-hello rk-guestbook rk-visits
[ -n "$server" ] || die "--server HOST:PORT is required: the apiserver, e.g. 192.168.56.10:6443"
check_address --server "$server"
if [ -z "$node_name" ]; then
  [ -z "$ROOT" ] || die "--node-name is required with --root (the default, the hostname, is this machine's)"
  node_name=$(hostname)
fi
check_node_name "$node_name"
if [ -z "$node_ip" ]; then
  [ -z "$ROOT" ] || die "--node-ip is required with --root (the default is found from this machine's routes)"
  node_ip=$(ip -4 route get "${server%:*}" 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -n1)
  [ -n "$node_ip" ] || die "cannot tell this node's address towards ${server%:*}: pass --node-ip"
fi
check_ipv4 --node-ip "$node_ip"
check_labels "$node_labels"
check_cidr --service-cluster-ip-range "$service_range"
check_cidr --cluster-cidr "$cluster_cidr"
token=$(find_token "$token_file")
[ -n "$token" ] || die "the kubelet token is required: --token-file FILE (the master's /etc/rk/kubelet-token) or RK_KUBELET_TOKEN"

# busybox-static: /bin/busybox goes into rk/busybox; redis-server: its programs go
# into rk/redis (the kubelet builds both images); conntrack: rk-proxy's UDP flows.
apt_install docker.io iptables iproute2 conntrack busybox-static redis-server
if [ -z "$ROOT" ] && systemctl is-enabled --quiet redis-server.service 2>/dev/null; then
  # Only its programs are wanted, in pods; not a Redis on the node itself.
  note "disabling Debian's redis-server.service (rk/redis pods run Redis)"
  systemctl disable --now --quiet redis-server.service
fi

for program in rk-kubelet rk-proxy; do
  install_file "$bin_dir/$program" "/usr/local/bin/$program" 755 "$program.service"
done
if [ -x "$bin_dir/rkctl" ]; then
  install_file "$bin_dir/rkctl" /usr/local/bin/rkctl 755
fi
# Every program in the image directory (rk-pause, rk-hello and whatever else rk's images are made of).
for program in "$image_dir"/*; do
  [ -f "$program" ] && [ -x "$program" ] || continue
  install_file "$program" "/usr/lib/rk/images/$(basename -- "$program")" 755 rk-kubelet.service
done

units=(rk-kubelet.service rk-proxy.service)
for unit in "${units[@]}"; do
  install_unit "$unit"
done

kubelet_args=""
[ "$pod_routes" = no ] || kubelet_args=--pod-routes
header="# Written by deploy/provision/node.sh; run it again to change these settings
# (or edit this file, then systemctl restart"
write_file /etc/rk/kubelet-token 600 rk-kubelet.service <<<"$token"
write_file /etc/rk/kubelet.env 644 rk-kubelet.service <<EOF
$header rk-kubelet).
RK_SERVER=$server
RK_NODE_NAME=$node_name
RK_NODE_IP=$node_ip
RK_NODE_LABELS=$node_labels
DOCKER_HOST=unix:///run/docker.sock
RK_KUBELET_STREAMING_LISTEN=$node_ip:10250
RK_KUBELET_HEALTH_LISTEN=127.0.0.1:10248
RK_CLUSTER_CIDR=$cluster_cidr
# Other flags (rk-kubelet --help); --pod-routes: other nodes' pod CIDRs are routed via their node IPs
RK_KUBELET_ARGS=$kubelet_args
EOF
write_file /etc/rk/proxy.env 644 rk-proxy.service <<EOF
$header rk-proxy).
RK_SERVER=$server
RK_NODE_NAME=$node_name
RK_NODE_IP=$node_ip
RK_SERVICE_CLUSTER_IP_RANGE=$service_range
RK_CLUSTER_CIDR=$cluster_cidr
RK_PROXY_HEALTH_LISTEN=127.0.0.1:10256
# Other flags (rk-proxy --help)
RK_PROXY_ARGS=
EOF

if [ -z "$ROOT" ]; then
  systemctl enable --now --quiet docker.service
fi
enable_and_start "${units[@]}"
wait_for_port 127.0.0.1 10248 120 rk-kubelet.service
if [ -n "$ROOT" ]; then
  note "node $node_name ($node_ip${node_labels:+, $node_labels}) written under $ROOT"
else
  note "node $node_name ($node_ip${node_labels:+, $node_labels}) ready, apiserver $server"
fi
