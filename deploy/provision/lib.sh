# shellcheck shell=bash
# Shared by master.sh and node.sh (sourced, not run): checking arguments,
# installing files only when they differ, Debian packages, and enabling and
# starting units. With --root DIR everything is written under DIR and neither
# apt-get nor systemctl runs, so a test can look at what a run would install.

set -euo pipefail
umask 022

PROG=$(basename "$0")
# deploy/: the units are in deploy/systemd next to this directory.
DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=""
# Units whose unit file, settings or program changed in this run: restarted, not just started.
CHANGED_UNITS=()

die() {
  echo "$PROG: error: $*" >&2
  exit 2
}

note() {
  echo "$PROG: $*"
}

# The value of option $1 given as "$2" (the next argument); dies when missing.
need_value() {
  [ $# -ge 2 ] && [ -n "$2" ] && [[ "$2" != --* ]] || die "$1 needs a value (see $PROG --help)"
}

# What the script fills in before it calls parse_options: the variable each
# option sets, the options without a value (with the variable=value each one
# sets), and the options whose value may be empty (with the hint given when the
# value is missing).
declare -A OPTION_VARIABLES=() SWITCH_OPTIONS=() OPTIONS_MAY_BE_EMPTY=()

# parse_options ARG...: the command line, --flag=VALUE read as --flag VALUE;
# -h/--help (the script's usage) and --root are the same for every script.
parse_options() {
  local arg assignment
  while [ $# -gt 0 ]; do
    arg=$1
    if [[ $arg == --*=* ]]; then
      set -- "${arg%%=*}" "${arg#*=}" "${@:2}"
      arg=$1
    fi
    if [ "$arg" = -h ] || [ "$arg" = --help ]; then
      usage
      exit 0
    elif [ "$arg" = --root ]; then
      need_value "$@"
      set_root "$2"
      shift 2
    elif [ -n "$arg" ] && [ -n "${SWITCH_OPTIONS[$arg]+set}" ]; then
      assignment=${SWITCH_OPTIONS[$arg]}
      printf -v "${assignment%%=*}" '%s' "${assignment#*=}"
      shift
    elif [ -n "$arg" ] && [ -n "${OPTION_VARIABLES[$arg]+set}" ]; then
      if [ -n "${OPTIONS_MAY_BE_EMPTY[$arg]+set}" ]; then
        [ $# -ge 2 ] || die "$arg needs ${OPTIONS_MAY_BE_EMPTY[$arg]} (see $PROG --help)"
      else
        need_value "$@"
      fi
      printf -v "${OPTION_VARIABLES[$arg]}" '%s' "$2"
      shift 2
    else
      die "unknown argument $arg (see $PROG --help)"
    fi
  done
}

set_root() {
  local dir=$1
  mkdir -p -- "$dir" 2>/dev/null || die "--root $dir: cannot create that directory"
  ROOT=$(cd -- "$dir" && pwd)
  [ "$ROOT" != / ] || die "--root / is this machine itself: leave --root out to provision it"
}

# Root of the machine being provisioned: the scratch root, or nothing.
at() {
  printf '%s%s' "$ROOT" "$1"
}

require_real_root() {
  if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
    die "provisioning this machine needs root (sudo $PROG ...), or --root DIR to write into a directory"
  fi
}

is_ipv4() {
  local ip=$1 octet
  local -a octets
  [[ $ip =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || return 1
  IFS=. read -r -a octets <<<"$ip"
  for octet in "${octets[@]}"; do
    [ $((10#$octet)) -le 255 ] || return 1
  done
}

check_cidr() {
  local flag=$1 value=$2
  local ip=${value%/*} bits=${value#*/}
  if [[ $value != */* ]] || ! is_ipv4 "$ip" || ! [[ $bits =~ ^[0-9]{1,2}$ ]] || [ "$bits" -gt 32 ]; then
    die "$flag $value: expected an IPv4 CIDR like 10.244.0.0/16"
  fi
}

check_ipv4() {
  is_ipv4 "$2" || die "$1 $2: expected an IPv4 address like 192.168.56.11"
}

check_seconds() {
  [[ $2 =~ ^[1-9][0-9]{0,6}$ ]] || die "$1 $2: expected a whole number of seconds, like 40"
}

# HOST:PORT, HOST an IPv4 address or a DNS name.
check_address() {
  local flag=$1 value=$2
  local host=${value%:*} port=${value##*:}
  if [[ $value != *:* ]] || ! [[ $host =~ ^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$ ]] \
    || ! [[ $port =~ ^[0-9]{1,5}$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    die "$flag $value: expected HOST:PORT, like 192.168.56.10:6443"
  fi
}

# A node name is a DNS subdomain, as Kubernetes requires.
check_node_name() {
  local name=$1
  if ! [[ $name =~ ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$ ]] || [ ${#name} -gt 253 ]; then
    die "--node-name $name: expected lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (like node1)"
  fi
}

# key=value,key=value with Kubernetes' label syntax.
check_labels() {
  local labels=$1 pair key value name
  local -a pairs
  local part='[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?'
  local allowed="labels look like disktype=ssd,zone=a: keys and values of letters, digits, '-', '_' and '.', starting and ending with a letter or digit, at most 63 characters (a key may have a DNS prefix like example.com/; a value may be empty)"
  [ -n "$labels" ] || return 0
  IFS=, read -r -a pairs <<<"$labels"
  [ "${labels: -1}" != , ] || die "--node-labels $labels: ends with ','; $allowed"
  for pair in "${pairs[@]}"; do
    [[ $pair == *=* ]] || die "--node-labels: \"$pair\" is not key=value; $allowed"
    key=${pair%%=*}
    value=${pair#*=}
    name=${key##*/}
    if [[ $key == */* ]]; then
      local prefix=${key%/*}
      [[ $prefix =~ ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$ ]] && [ ${#prefix} -le 253 ] \
        || die "--node-labels: the prefix of key \"$key\" is not a DNS name; $allowed"
    fi
    [[ $name =~ ^$part$ ]] && [ ${#name} -le 63 ] || die "--node-labels: key \"$key\" is not allowed; $allowed"
    if [ -n "$value" ]; then
      [[ $value =~ ^$part$ ]] && [ ${#value} -le 63 ] || die "--node-labels: value \"$value\" of \"$key\" is not allowed; $allowed"
    fi
  done
}

check_token() {
  [[ $1 =~ ^[A-Za-z0-9._~+/=-]{16,}$ ]] \
    || die "$2: the kubelet token must be at least 16 characters of letters, digits and ._~+/=- (no spaces)"
}

# The kubelet token from --token-file, RK_KUBELET_TOKEN, or what an earlier run
# installed; empty when there is none.
find_token() {
  local file=$1 token=""
  if [ -n "$file" ]; then
    [ -f "$file" ] && [ -r "$file" ] || die "--token-file $file: no such readable file"
    token=$(tr -d ' \t\r\n' <"$file")
    check_token "$token" "--token-file $file"
  elif [ -n "${RK_KUBELET_TOKEN:-}" ]; then
    token=$RK_KUBELET_TOKEN
    check_token "$token" RK_KUBELET_TOKEN
  elif [ -f "$(at /etc/rk/kubelet-token)" ]; then
    token=$(tr -d ' \t\r\n' <"$(at /etc/rk/kubelet-token)")
    check_token "$token" "/etc/rk/kubelet-token"
  fi
  printf '%s' "$token"
}

# The directory given for $1, checked to hold the programs $3...
check_program_dir() {
  local flag=$1 dir=$2 program
  shift 2
  [ -n "$dir" ] || die "$flag DIR is required: the directory holding $*"
  [ -d "$dir" ] || die "$flag $dir: no such directory (it must hold $*)"
  for program in "$@"; do
    [ -f "$dir/$program" ] && [ -x "$dir/$program" ] \
      || die "$flag $dir: $program is missing or not executable (build it: cargo build --release; scripts/build-images for the image programs)"
  done
}

mark_changed() {
  local unit
  for unit in "$@"; do
    [[ " ${CHANGED_UNITS[*]-} " == *" $unit "* ]] || CHANGED_UNITS+=("$unit")
  done
}

# install_file SRC DEST MODE [UNIT...]: copies SRC to DEST (on the provisioned
# machine) unless it is already there with that mode; the units are marked changed.
install_file() {
  local src=$1 dest=$2 mode=$3
  shift 3
  local target
  target=$(at "$dest")
  if [ -f "$target" ] && [ ! -L "$target" ] && cmp -s -- "$src" "$target" && [ "$(stat -c %a -- "$target")" = "$mode" ]; then
    return 0
  fi
  mkdir -p -- "$(dirname -- "$target")"
  # A new file renamed over the old one: a running program is replaced, not overwritten.
  install -m "$mode" -- "$src" "$target.rk-new"
  mv -f -- "$target.rk-new" "$target"
  note "installed $dest"
  mark_changed "$@"
}

# write_file DEST MODE [UNIT...] < CONTENT
write_file() {
  local dest=$1 mode=$2
  shift 2
  local tmp
  tmp=$(mktemp)
  cat >"$tmp"
  install_file "$tmp" "$dest" "$mode" "$@"
  rm -f -- "$tmp"
}

install_unit() {
  local unit=$1
  [ -f "$DEPLOY_DIR/systemd/$unit" ] || die "$DEPLOY_DIR/systemd/$unit is missing: run $PROG from an rk checkout's deploy/provision"
  install_file "$DEPLOY_DIR/systemd/$unit" "/etc/systemd/system/$unit" 644 "$unit"
}

apt_install() {
  if [ -n "$ROOT" ]; then
    note "--root: not installing Debian packages ($*)"
    return 0
  fi
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  note "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Enables the units (the links `systemctl enable` makes, from their WantedBy=)
# and starts them; units marked changed are restarted. Under --root only the
# links are made.
enable_and_start() {
  local unit
  if [ -n "$ROOT" ]; then
    for unit in "$@"; do
      local target
      for target in $(sed -n 's/^WantedBy=//p' "$(at "/etc/systemd/system/$unit")"); do
        mkdir -p -- "$(at "/etc/systemd/system/$target.wants")"
        ln -sfn "/etc/systemd/system/$unit" "$(at "/etc/systemd/system/$target.wants/$unit")"
      done
    done
    note "--root: enabled $* (not started)"
    return 0
  fi
  systemctl daemon-reload
  systemctl enable --quiet "$@"
  for unit in "$@"; do
    if [[ " ${CHANGED_UNITS[*]-} " == *" $unit "* ]]; then
      note "restarting $unit"
      systemctl restart "$unit"
    else
      systemctl start "$unit"
    fi
  done
}

# Waits up to $3 seconds for a TCP port to accept connections (after a start).
wait_for_port() {
  local host=$1 port=$2 seconds=$3 unit=$4
  [ -z "$ROOT" ] || return 0
  local deadline=$((SECONDS + seconds))
  until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      echo "$PROG: error: $unit is not answering on $host:$port after ${seconds}s; see journalctl -u $unit" >&2
      exit 1
    fi
    sleep 1
  done
}
