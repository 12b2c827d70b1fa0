#!/usr/bin/env bash
# The hffs-node lab: hosts in network namespaces on two site bridges, joined only
# by a process on the relay host, and a rate-limited link from site A to a hub.
# Nothing it makes touches the machine's own namespace. See scripts/lab/README.md.
set -euo pipefail

readonly PROG=lab.sh
STATE_DIR=${HFFS_LAB_STATE_DIR:-/tmp/hffs-lab}  # default state files (JSON), readable by tests
RUN_DIR=${HFFS_LAB_RUN_DIR:-/run/hffs-lab}      # owner records, root only
readonly ID_RE='^hl[0-9a-f]{4}$'
# Every namespace a run makes is "<id>-<role>"; --all-stale removes only names of this shape.
readonly NS_RE='^(hl[0-9a-f]{4})-(a[0-9]+|b[0-9]+|relay|gw|hub|swa|swb|chk)$'
readonly KILL_GRACE_S=3

usage() {
  cat <<'EOF'
usage: lab.sh up     [--id ID] [--fresh] [--state FILE] [--rate RATE] [--net-a CIDR] [--net-b CIDR] [--net-hub CIDR]
                     [--a-hosts N] [--b-hosts N] [--owner-pid PID]
       lab.sh down   [--id ID | --state FILE]
       lab.sh down   --all-stale        (or: lab.sh --all-stale)
       lab.sh status [--id ID | --state FILE]
       lab.sh exec   [--id ID | --state FILE] HOST CMD [ARG...]
       lab.sh check  exit 0 if this machine can build the lab (root, ip netns, veth, bridge, tc tbf)

  --id ID          run id, "hl" + 4 hex digits (default: a fresh one); prefix of every name the run makes
  --fresh          fail (exit 3) if run ID already exists, instead of bringing it up to date
  --state FILE     JSON description of the lab (default: /tmp/hffs-lab/ID.json)
  --rate RATE      hub link rate, N{bit,kbit,mbit,gbit} (default 100mbit)
  --net-a CIDR     site A subnet, a /24 (default 10.77.1.0/24); --net-b 10.77.2.0/24; --net-hub 10.77.9.0/24
  --a-hosts N      hosts on site A, a1..aN (default 4); --b-hosts N (default 3)
  --owner-pid PID  the run is stale once PID is gone (default: the caller of lab.sh)

Hosts: a1..aN, b1..bN, relay (both sites, forwarding off), gw (site A <-> hub link), hub.
EOF
}

die() {
  echo "$PROG: $*" >&2
  exit 2
}

# --- options ----------------------------------------------------------------

ID='' STATE='' RATE=100mbit NET_A=10.77.1.0/24 NET_B=10.77.2.0/24 NET_HUB=10.77.9.0/24
A_HOSTS=4 B_HOSTS=3 OWNER_PID=$PPID ALL_STALE=0 FRESH=0

# Parses options up to the first non-option; the rest is left in REST.
parse_opts() {
  REST=()
  while (($#)); do
    case $1 in
      --id) ID=${2:?--id needs a value}; shift 2 ;;
      --state) STATE=${2:?--state needs a value}; shift 2 ;;
      --rate) RATE=${2:?--rate needs a value}; shift 2 ;;
      --net-a) NET_A=${2:?--net-a needs a value}; shift 2 ;;
      --net-b) NET_B=${2:?--net-b needs a value}; shift 2 ;;
      --net-hub) NET_HUB=${2:?--net-hub needs a value}; shift 2 ;;
      --a-hosts) A_HOSTS=${2:?--a-hosts needs a value}; shift 2 ;;
      --b-hosts) B_HOSTS=${2:?--b-hosts needs a value}; shift 2 ;;
      --owner-pid) OWNER_PID=${2:?--owner-pid needs a value}; shift 2 ;;
      --all-stale) ALL_STALE=1; shift ;;
      --fresh) FRESH=1; shift ;;
      -h | --help) usage; exit 0 ;;
      --) shift; REST=("$@"); return ;;
      -*) die "unknown option: $1" ;;
      *) REST=("$@"); return ;;
    esac
  done
}

# "10.77.1.0/24" -> "10.77.1"
net_base() {
  local cidr=$1 re='^(([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3}))\.0/24$'
  [[ $cidr =~ $re ]] || die "not a x.y.z.0/24 subnet: $cidr"
  local o
  for o in "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}"; do
    ((10#$o <= 255)) || die "not a subnet: $cidr"
  done
  echo "${BASH_REMATCH[1]}"
}

# tc rate -> bits per second
rate_bps() {
  local re='^([0-9]+)(bit|kbit|mbit|gbit)$'
  [[ ${1,,} =~ $re ]] || die "rate must be N{bit,kbit,mbit,gbit}: $1"
  local n=$((10#${BASH_REMATCH[1]}))
  case ${BASH_REMATCH[2]} in
    bit) echo $((n)) ;;
    kbit) echo $((n * 1000)) ;;
    mbit) echo $((n * 1000000)) ;;
    gbit) echo $((n * 1000000000)) ;;
  esac
}

validate_up_opts() {
  [[ -z $ID || $ID =~ $ID_RE ]] || die "--id must be hl + 4 hex digits: $ID"
  # One assignment per line: set -e sees only the last command substitution of a line.
  BASE_A=$(net_base "$NET_A")
  BASE_B=$(net_base "$NET_B")
  BASE_HUB=$(net_base "$NET_HUB")
  [[ $BASE_A != "$BASE_B" && $BASE_A != "$BASE_HUB" && $BASE_B != "$BASE_HUB" ]] || die "subnets must differ"
  RATE_BPS=$(rate_bps "$RATE")
  ((RATE_BPS >= 100000)) || die "rate too low: $RATE"
  local n
  for n in "$A_HOSTS" "$B_HOSTS"; do
    [[ $n =~ ^[0-9]+$ ]] || die "host counts must be 1..50: $n"
    ((n >= 1 && n <= 50)) || die "host counts must be 1..50: $n"
  done
  [[ $OWNER_PID =~ ^[0-9]+$ ]] || die "--owner-pid must be a pid: $OWNER_PID"
}

# --- names and bookkeeping --------------------------------------------------

ns_list() { ip netns list 2>/dev/null | awk '{print $1}'; }
ns_exists() { ns_list | grep -qxF -- "$1"; }
run_namespaces() { ns_list | grep -E -- "^$1-" | grep -E "$NS_RE" || true; }

new_id() {
  local id _
  for _ in {1..10}; do
    id=hl$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
    if [[ -z $(run_namespaces "$id") && ! -e $RUN_DIR/$id.owner ]]; then
      echo "$id"
      return
    fi
  done
  die "could not pick a free run id"
}

# Start time of a pid in clock ticks (field 22 of /proc/PID/stat), so a reused pid is not taken for the owner.
pid_start() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  local f
  read -r -a f <<<"$stat"
  echo "${f[19]}"
}

write_owner() {
  (umask 077 && mkdir -p -- "$RUN_DIR")
  local start
  start=$(pid_start "$OWNER_PID") || die "owner pid $OWNER_PID is not running"
  printf '%s %s %s\n' "$OWNER_PID" "$start" "$STATE" >"$RUN_DIR/$ID.owner.tmp"
  mv -f "$RUN_DIR/$ID.owner.tmp" "$RUN_DIR/$ID.owner"
}

# True while the process that made run $1 is alive.
run_alive() {
  local pid start state now
  read -r pid start state 2>/dev/null <"$RUN_DIR/$1.owner" || return 1
  now=$(pid_start "$pid") || return 1
  [[ $now == "$start" ]]
}

ensure_state_dir() {
  local dir
  dir=$(dirname -- "$STATE")
  if [[ $dir == "$STATE_DIR" ]]; then
    (umask 022 && mkdir -p -- "$STATE_DIR")
    [[ -O $STATE_DIR && ! -L $STATE_DIR ]] || die "$STATE_DIR is not ours; set HFFS_LAB_STATE_DIR"
  else
    mkdir -p -- "$dir"
  fi
}

# Finds the run for down/status/exec from --id, --state, or the only run there is.
resolve_run() {
  if [[ -n $STATE && -z $ID ]]; then
    [[ -r $STATE ]] || die "no state file: $STATE"
    ID=$(sed -nE 's/^  "id": "(hl[0-9a-f]{4})",?$/\1/p' "$STATE" | head -n1)
    [[ $ID =~ $ID_RE ]] || die "no run id in $STATE"
  elif [[ -z $ID ]]; then
    local ids
    ids=$(known_ids)
    [[ -n $ids ]] || die "no lab is running"
    [[ $(wc -l <<<"$ids") -eq 1 ]] || die "several labs ($(tr '\n' ' ' <<<"$ids")); give --id or --state"
    ID=$ids
  fi
  [[ $ID =~ $ID_RE ]] || die "--id must be hl + 4 hex digits: $ID"
  if [[ -z $STATE ]]; then
    local pid start state
    if read -r pid start state 2>/dev/null <"$RUN_DIR/$ID.owner" && [[ -n $state ]]; then
      STATE=$state
    else
      STATE=$STATE_DIR/$ID.json
    fi
  fi
}

known_ids() {
  {
    ns_list | sed -nE "s/$NS_RE/\\1/p"
    if [[ -d $RUN_DIR ]]; then
      find "$RUN_DIR" -maxdepth 1 -name 'hl*.owner' -printf '%f\n' | sed -nE 's/^(hl[0-9a-f]{4})\.owner$/\1/p'
    fi
  } | sort -u
}

# --- tear-down ----------------------------------------------------------------

# Ends the processes inside a namespace of ours (they keep it, and its links, alive), TERM then KILL.
kill_ns_pids() {
  local ns=$1 pids i
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [[ -n $pids ]] || return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for ((i = 0; i < KILL_GRACE_S * 10; i++)); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [[ -n $pids ]] || return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
}

# Removes everything run $1 made: processes in its namespaces, the namespaces (their links and
# bridges go with them), its owner record and its state file.
teardown() {
  local id=$1 state=${2:-} ns pid start st
  if [[ -z $state ]] && read -r pid start st 2>/dev/null <"$RUN_DIR/$id.owner"; then state=$st; fi
  for ns in $(run_namespaces "$id"); do kill_ns_pids "$ns"; done
  for ns in $(run_namespaces "$id"); do ip netns delete "$ns" 2>/dev/null || true; done
  [[ -z $(run_namespaces "$id") ]] || echo "$PROG: could not remove every namespace of $id" >&2
  rm -f -- "$RUN_DIR/$id.owner"
  if [[ -n $state && -f $state ]] && grep -q "\"id\": \"$id\"" "$state" 2>/dev/null; then rm -f -- "$state"; fi
  [[ -z $(run_namespaces "$id") ]]
}

remove_stale() {
  local id removed=0 kept=0
  for id in $(known_ids); do
    if run_alive "$id"; then
      echo "kept $id (owner alive)"
      kept=$((kept + 1))
    else
      teardown "$id" "" || true
      echo "removed $id"
      removed=$((removed + 1))
    fi
  done
  echo "stale runs removed: $removed, live runs kept: $kept"
}

# --- set-up -------------------------------------------------------------------

ns_name() { echo "$ID-$1"; }

ensure_ns() {
  local ns
  ns=$(ns_name "$1")
  ns_exists "$ns" || ip netns add "$ns"
  ip -n "$ns" link set lo up
}

ensure_bridge() {
  local sw
  sw=$(ns_name "$1")
  ensure_ns "$1"
  if ! ip -n "$sw" link show br0 &>/dev/null; then
    # No STP: ports forward at once. No snooping: multicast is flooded to every port, as on a dumb switch.
    ip -n "$sw" link add br0 type bridge stp_state 0 mcast_snooping 0
  fi
  ip -n "$sw" link set br0 multicast on up
}

# attach HOST IFNAME SWITCH ADDR/LEN: a veth from the host's namespace to the switch's bridge.
attach() {
  local hns sw ifn=$2 port addr=$4
  hns=$(ns_name "$1") sw=$(ns_name "$3") port="$ID-$1"
  if ! ip -n "$hns" link show "$ifn" &>/dev/null; then
    ip -n "$sw" link delete "$port" 2>/dev/null || true
    ip -n "$hns" link add "$ifn" type veth peer name "$port" netns "$sw"
  fi
  ip -n "$sw" link set "$port" master br0 multicast on up
  ip -n "$hns" link set "$ifn" multicast on up
  ip -n "$hns" addr replace "$addr" dev "$ifn"
}

# sysctl inside a namespace: /proc/sys/net belongs to the namespace of whoever reads it.
ns_sysctl() {
  ip netns exec "$(ns_name "$1")" sh -c "echo $3 > /proc/sys/net/$2"
}

mcast_route() { ip -n "$(ns_name "$1")" route replace 224.0.0.0/4 dev "$2" metric "${3:-0}"; }

build() {
  local i h ns_gw ns_hub burst
  ensure_bridge swa
  ensure_bridge swb

  for ((i = 1; i <= A_HOSTS; i++)); do
    h=a$i
    ensure_ns "$h"
    attach "$h" eth0 swa "$BASE_A.$i/24"
    ip -n "$(ns_name "$h")" route replace "$NET_B" via "$BASE_A.254"  # to the relay, which drops it
    ip -n "$(ns_name "$h")" route replace "$NET_HUB" via "$BASE_A.253"
    mcast_route "$h" eth0
  done
  for ((i = 1; i <= B_HOSTS; i++)); do
    h=b$i
    ensure_ns "$h"
    attach "$h" eth0 swb "$BASE_B.$i/24"
    ip -n "$(ns_name "$h")" route replace "$NET_A" via "$BASE_B.254"  # to the relay, which drops it
    mcast_route "$h" eth0
  done

  ensure_ns relay
  attach relay eth0 swa "$BASE_A.254/24"
  attach relay eth1 swb "$BASE_B.254/24"
  ns_sysctl relay ipv4/ip_forward 0
  ns_sysctl relay ipv6/conf/all/forwarding 0
  mcast_route relay eth0 0
  mcast_route relay eth1 10

  ensure_ns gw
  ensure_ns hub
  attach gw eth0 swa "$BASE_A.253/24"
  ns_gw=$(ns_name gw) ns_hub=$(ns_name hub)
  if ! ip -n "$ns_gw" link show eth1 &>/dev/null; then
    ip -n "$ns_hub" link delete eth0 2>/dev/null || true
    ip -n "$ns_gw" link add eth1 type veth peer name eth0 netns "$ns_hub"
  fi
  ip -n "$ns_gw" link set eth1 multicast on up
  ip -n "$ns_hub" link set eth0 multicast on up
  ip -n "$ns_gw" addr replace "$BASE_HUB.1/24" dev eth1
  ip -n "$ns_hub" addr replace "$BASE_HUB.2/24" dev eth0
  ip -n "$ns_hub" route replace "$NET_A" via "$BASE_HUB.1"
  ns_sysctl gw ipv4/ip_forward 1
  ns_sysctl gw ipv6/conf/all/forwarding 0
  mcast_route gw eth0
  mcast_route hub eth0

  # The hub link is limited both ways. Burst: 10 ms at the rate (the kernel needs >= rate/HZ), at least 16 KB.
  burst=$((RATE_BPS / 8 / 100))
  ((burst >= 16384)) || burst=16384
  tc -n "$ns_gw" qdisc replace dev eth1 root tbf rate "$RATE" burst "$burst" latency 50ms
  tc -n "$ns_hub" qdisc replace dev eth0 root tbf rate "$RATE" burst "$burst" latency 50ms
}

# --- state file ---------------------------------------------------------------

json_iface() { printf '{ "name": "%s", "ip": "%s", "prefixLength": 24, "net": "%s" }' "$1" "$2" "$3"; }

# json_host NAME SITE ROLE IFACE_JSON...
json_host() {
  local name=$1 site=$2 role=$3 ip
  shift 3
  ip=$(sed -nE 's/.*"ip": "([0-9.]+)".*/\1/p' <<<"$1")
  local ifaces
  ifaces=$(printf '%s, ' "$@")
  printf '    "%s": { "name": "%s", "ns": "%s", "site": %s, "role": "%s", "ip": "%s", "ifaces": [%s] }' \
    "$name" "$name" "$(ns_name "$name")" "$site" "$role" "$ip" "${ifaces%, }"
}

write_state() {
  local hosts=() i
  for ((i = 1; i <= A_HOSTS; i++)); do hosts+=("$(json_host "a$i" '"a"' peer "$(json_iface eth0 "$BASE_A.$i" a)")"); done
  for ((i = 1; i <= B_HOSTS; i++)); do hosts+=("$(json_host "b$i" '"b"' peer "$(json_iface eth0 "$BASE_B.$i" b)")"); done
  hosts+=("$(json_host relay null relay "$(json_iface eth0 "$BASE_A.254" a)" "$(json_iface eth1 "$BASE_B.254" b)")")
  hosts+=("$(json_host gw '"a"' gateway "$(json_iface eth0 "$BASE_A.253" a)" "$(json_iface eth1 "$BASE_HUB.1" hub)")")
  hosts+=("$(json_host hub '"hub"' hub "$(json_iface eth0 "$BASE_HUB.2" hub)")")
  local body
  body=$(printf '%s,\n' "${hosts[@]}")
  {
    printf '{\n'
    printf '  "id": "%s",\n  "prefix": "%s-",\n  "stateFile": "%s",\n  "ownerPid": %s,\n' "$ID" "$ID" "$STATE" "$OWNER_PID"
    printf '  "hubRate": "%s",\n  "hubRateBitsPerSec": %s,\n' "$RATE" "$RATE_BPS"
    printf '  "nets": { "a": "%s", "b": "%s", "hub": "%s" },\n' "$NET_A" "$NET_B" "$NET_HUB"
    printf '  "switches": { "a": { "ns": "%s", "bridge": "br0" }, "b": { "ns": "%s", "bridge": "br0" } },\n' \
      "$(ns_name swa)" "$(ns_name swb)"
    printf '  "hosts": {\n%s\n  }\n}\n' "${body%,}"
  } >"$STATE.tmp"
  mv -f -- "$STATE.tmp" "$STATE"
}

# --- commands -----------------------------------------------------------------

UP_DONE=0
on_up_exit() {
  local rc=$?
  if ((UP_DONE == 0)); then
    echo "$PROG: up failed (exit $rc); tearing down $ID" >&2
    teardown "$ID" "$STATE" || true
  fi
  exit "$rc"
}

cmd_up() {
  validate_up_opts
  if [[ -z $ID ]]; then
    ID=$(new_id)
  elif ((FRESH)) && [[ -n $(run_namespaces "$ID") || -e $RUN_DIR/$ID.owner ]]; then
    echo "$PROG: run $ID already exists" >&2
    exit 3
  fi
  [[ -n $STATE ]] || STATE=$STATE_DIR/$ID.json
  STATE=$(realpath -m -- "$STATE")
  ensure_state_dir
  trap on_up_exit EXIT
  trap 'exit 130' INT TERM
  write_owner  # before any namespace, so --all-stale never mistakes a run being built for a dead one
  build
  write_state
  UP_DONE=1
  trap - EXIT INT TERM
  echo "$STATE"
}

cmd_down() {
  if ((ALL_STALE)); then
    remove_stale
    return
  fi
  resolve_run
  teardown "$ID" "$STATE"
  echo "removed $ID"
}

cmd_status() {
  if [[ -z $ID && -z $STATE && $(known_ids | wc -l) -ne 1 ]]; then
    local id
    [[ -n $(known_ids) ]] || echo "no labs"
    for id in $(known_ids); do
      printf '%s  owner %s  namespaces %s\n' "$id" "$(run_alive "$id" && echo alive || echo gone)" \
        "$(run_namespaces "$id" | wc -l)"
    done
    return
  fi
  resolve_run
  [[ -r $STATE ]] || die "no state file for $ID: $STATE"
  local missing=0 line host ns ips
  printf 'lab %s (owner %s), state %s\n' "$ID" "$(run_alive "$ID" && echo alive || echo gone)" "$STATE"
  # One host per line in the state file: name, namespace, then its addresses.
  while IFS= read -r line; do
    host=$(sed -nE 's/^    "([a-z0-9]+)": .*/\1/p' <<<"$line")
    ns=$(sed -nE 's/.*"ns": "([^"]+)".*/\1/p' <<<"$line")
    ips=$(grep -oE '"ip": "[0-9.]+"' <<<"$line" | tail -n +2 | cut -d'"' -f4 | tr '\n' ' ')
    if ns_exists "$ns"; then
      printf '  %-6s %-14s %s\n' "$host" "$ns" "$ips"
    else
      printf '  %-6s %-14s %s MISSING\n' "$host" "$ns" "$ips"
      missing=1
    fi
  done < <(grep -E '^    "[a-z0-9]+": \{ "name"' "$STATE")
  return $missing
}

cmd_exec() {
  (($# >= 2)) || die "usage: lab.sh exec HOST CMD [ARG...]"
  local host=$1
  shift
  resolve_run
  [[ $host =~ ^[a-z0-9]+$ ]] || die "bad host name: $host"
  local ns=$ID-$host
  [[ $ns =~ $NS_RE && $host != sw? && $host != chk ]] || die "no host $host"
  ns_exists "$ns" || die "no namespace $ns (is lab $ID up?)"
  exec ip netns exec "$ns" "$@"
}

# Builds and removes a scratch namespace with a bridge, a veth pair and a tbf qdisc.
cmd_check() {
  [[ $(id -u) -eq 0 ]] || die "needs root"
  command -v ip >/dev/null || die "ip (iproute2) not found"
  command -v tc >/dev/null || die "tc (iproute2) not found"
  ID=$(new_id)
  STATE='' OWNER_PID=$$
  local ns=$ID-chk
  CHK_NS=$ns
  trap 'ip netns delete "$CHK_NS" 2>/dev/null || true; rm -f -- "$RUN_DIR/$ID.owner"' EXIT
  write_owner
  ip netns add "$ns" 2>/dev/null || die "ip netns add failed (no CAP_SYS_ADMIN?)"
  ip -n "$ns" link set lo up || die "cannot bring up lo in a namespace"
  ip -n "$ns" link add chk0 type veth peer name chk1 2>/dev/null || die "cannot make a veth pair"
  ip -n "$ns" link add br0 type bridge 2>/dev/null || die "cannot make a bridge"
  tc -n "$ns" qdisc add dev chk0 root tbf rate 50mbit burst 64k latency 50ms 2>/dev/null ||
    die "tc tbf is not supported"
  echo ok
}

main() {
  (($#)) || { usage >&2; exit 2; }
  local cmd=$1
  shift
  case $cmd in
    --all-stale) ALL_STALE=1; parse_opts "$@"; cmd_down ;;
    up) parse_opts "$@"; ((${#REST[@]} == 0)) || die "up takes no arguments"; cmd_up ;;
    down) parse_opts "$@"; cmd_down ;;
    status) parse_opts "$@"; cmd_status ;;
    exec) parse_opts "$@"; cmd_exec "${REST[@]}" ;;
    check) cmd_check ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
