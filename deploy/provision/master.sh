#!/usr/bin/env bash
# Provisions an rk master (control plane) on Debian: etcd, rk-apiserver,
# rk-scheduler and rk-controller-manager, each a systemd unit (deploy/systemd)
# with its settings in /etc/rk/*.env. Safe to run again: files that are already
# right stay as they are, and only units whose files changed are restarted.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'EOF'
Usage: master.sh --bin-dir DIR [options]

Installs etcd (Debian's etcd-server), rk's control plane programs from DIR into
/usr/local/bin, their systemd units into /etc/systemd/system and their settings
into /etc/rk, then enables and starts rk-etcd, rk-apiserver, rk-scheduler and
rk-controller-manager.

  --bin-dir DIR                  rk-apiserver, rk-scheduler, rk-controller-manager (and
                                 rkctl, if there) as built by `cargo build --release`
                                 (target/release); or RK_BIN_DIR
  --apiserver-listen ADDR        where the apiserver serves gRPC (0.0.0.0:6443: nodes reach it)
  --service-cluster-ip-range CIDR   Service cluster IPs (10.96.0.0/16)
  --service-node-port-range FIRST-LAST   node ports (30000-32767)
  --cluster-cidr CIDR            pod network, split into one /24 per node (10.244.0.0/16)
  --load-balancer-ip-range RANGE LoadBalancer Service addresses, CIDR or first-last (198.18.255.0/24)
  --node-monitor-grace-period S  seconds without heartbeat before a node is NotReady (40)
  --pod-eviction-timeout S       seconds a node may be NotReady before its pods go (300)
  --token-file FILE              the token the apiserver presents to kubelets (also
                                 RK_KUBELET_TOKEN); default: keep /etc/rk/kubelet-token,
                                 or make a random one. Nodes need the same token.
  --root DIR                     write everything under DIR instead of /; no apt-get,
                                 no systemctl (units are only linked as enabled)
  -h, --help                     this help
EOF
}

bin_dir=${RK_BIN_DIR:-}
apiserver_listen=0.0.0.0:6443
service_range=10.96.0.0/16
node_port_range=30000-32767
cluster_cidr=10.244.0.0/16
lb_range=198.18.255.0/24
grace_period=40
eviction_timeout=300
token_file=""

OPTION_VARIABLES=(
  [--bin-dir]=bin_dir
  [--apiserver-listen]=apiserver_listen
  [--service-cluster-ip-range]=service_range
  [--service-node-port-range]=node_port_range
  [--cluster-cidr]=cluster_cidr
  [--load-balancer-ip-range]=lb_range
  [--node-monitor-grace-period]=grace_period
  [--pod-eviction-timeout]=eviction_timeout
  [--token-file]=token_file
)
parse_options "$@"

require_real_root
check_program_dir --bin-dir "$bin_dir" rk-apiserver rk-scheduler rk-controller-manager
check_address --apiserver-listen "$apiserver_listen"
check_cidr --service-cluster-ip-range "$service_range"
check_cidr --cluster-cidr "$cluster_cidr"
[[ $node_port_range =~ ^[0-9]{1,5}-[0-9]{1,5}$ ]] && [ "${node_port_range%-*}" -le "${node_port_range#*-}" ] \
  && [ "${node_port_range#*-}" -le 65535 ] \
  || die "--service-node-port-range $node_port_range: expected FIRST-LAST, like 30000-32767"
if [[ $lb_range == */* ]]; then
  check_cidr --load-balancer-ip-range "$lb_range"
elif [[ $lb_range == *-* ]] && is_ipv4 "${lb_range%-*}" && is_ipv4 "${lb_range#*-}"; then
  :
else
  die "--load-balancer-ip-range $lb_range: expected a CIDR like 198.18.255.0/24 or FIRST-LAST addresses"
fi
check_seconds --node-monitor-grace-period "$grace_period"
check_seconds --pod-eviction-timeout "$eviction_timeout"
token=$(find_token "$token_file")
if [ -z "$token" ]; then
  token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  note "made a new kubelet token in /etc/rk/kubelet-token: give it to every node (node.sh --token-file)"
fi

apt_install etcd-server
if [ -z "$ROOT" ] && systemctl is-enabled --quiet etcd.service 2>/dev/null; then
  # Debian's etcd.service would hold port 2379; rk-etcd replaces it.
  note "disabling Debian's etcd.service (rk-etcd.service replaces it)"
  systemctl disable --now --quiet etcd.service
fi

for program in rk-apiserver rk-scheduler rk-controller-manager; do
  install_file "$bin_dir/$program" "/usr/local/bin/$program" 755 "$program.service"
done
if [ -x "$bin_dir/rkctl" ]; then
  install_file "$bin_dir/rkctl" /usr/local/bin/rkctl 755
fi

units=(rk-etcd.service rk-apiserver.service rk-scheduler.service rk-controller-manager.service)
for unit in "${units[@]}"; do
  install_unit "$unit"
done

header="# Written by deploy/provision/master.sh; run it again to change these settings
# (or edit this file, then systemctl restart"
write_file /etc/rk/kubelet-token 600 rk-apiserver.service <<<"$token"
write_file /etc/rk/etcd.env 644 rk-etcd.service <<EOF
$header rk-etcd). etcd reads these variables itself.
ETCD_NAME=rk
ETCD_DATA_DIR=/var/lib/rk-etcd
ETCD_LISTEN_CLIENT_URLS=http://127.0.0.1:2379
ETCD_ADVERTISE_CLIENT_URLS=http://127.0.0.1:2379
ETCD_LISTEN_PEER_URLS=http://127.0.0.1:2380
ETCD_INITIAL_ADVERTISE_PEER_URLS=http://127.0.0.1:2380
ETCD_INITIAL_CLUSTER=rk=http://127.0.0.1:2380
ETCD_LOG_LEVEL=warn
EOF
write_file /etc/rk/apiserver.env 644 rk-apiserver.service <<EOF
$header rk-apiserver).
RK_ETCD_SERVERS=http://127.0.0.1:2379
RK_APISERVER_LISTEN=$apiserver_listen
RK_APISERVER_HEALTH_LISTEN=127.0.0.1:6480
RK_SERVICE_CLUSTER_IP_RANGE=$service_range
RK_SERVICE_NODE_PORT_RANGE=$node_port_range
# Other flags (rk-apiserver --help), e.g. --watch-cache-size=10000
RK_APISERVER_ARGS=
EOF
write_file /etc/rk/scheduler.env 644 rk-scheduler.service <<EOF
$header rk-scheduler).
RK_SERVER=127.0.0.1:6443
RK_SCHEDULER_HEALTH_LISTEN=127.0.0.1:10259
# Other flags (rk-scheduler --help)
RK_SCHEDULER_ARGS=
EOF
write_file /etc/rk/controller-manager.env 644 rk-controller-manager.service <<EOF
$header rk-controller-manager).
RK_SERVER=127.0.0.1:6443
RK_CONTROLLER_MANAGER_HEALTH_LISTEN=127.0.0.1:10257
RK_CLUSTER_CIDR=$cluster_cidr
RK_NODE_MONITOR_GRACE_PERIOD=$grace_period
RK_POD_EVICTION_TIMEOUT=$eviction_timeout
RK_LOAD_BALANCER_IP_RANGE=$lb_range
# Other flags (rk-controller-manager --help)
RK_CONTROLLER_MANAGER_ARGS=
EOF

enable_and_start "${units[@]}"
wait_for_port 127.0.0.1 "${apiserver_listen##*:}" 60 rk-apiserver.service
if [ -n "$ROOT" ]; then
  note "master written under $ROOT (rk-apiserver on $apiserver_listen)"
else
  note "master ready: rk-apiserver on $apiserver_listen"
fi
