#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-e2e.sh - xnb end to end against a plain veth pair, in the same run.
#
# Guest = a network namespace. Through xnb: xnb-netfront in the guest,
# xnbd and its vif TAP in the host namespace, over the simulated platform.
# Baseline: a veth pair between the host and a second namespace. Same
# iperf3 runs over both, one JSON line per measurement with the ratio.
#
# usage: bench-e2e.sh BUILD_DIR [SECONDS]
set -eu

BUILD=$1
SECS=${2:-3}
[ "$(id -u)" = 0 ] || { echo "bench-e2e: needs root" >&2; exit 1; }
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(mktemp -d /tmp/xnb-bench.XXXXXX)
export XNB_SIM_DIR="$DIR" XENSTORED_PATH="$DIR/xenstored"
G=xnbbg$$ V=xnbbv$$

cleanup() {
	set +e
	for p in ${NF:-} ${XNBD:-} ${SIMD:-}; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	pkill -f "iperf3 -s -1 -B 10.215" 2>/dev/null
	ip netns del "$G" 2>/dev/null; ip netns del "$V" 2>/dev/null
	ip link del xnbbveth0 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

wait_for() { for _ in $(seq 1 50); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }

# xnb path: 10.215.1.0/24
"$BUILD/src/sim/xnb-simd" --foreground --dir "$DIR" >"$DIR/simd.log" 2>&1 & SIMD=$!
wait_for test -S "$DIR/xenstored"
"$BUILD/src/backend/xnbd" >"$DIR/xnbd.log" 2>&1 & XNBD=$!
wait_for test -S "$DIR/xnbd.sock"
ip netns add "$G"
ip netns exec "$G" ip link set lo up
ip netns exec "$G" "$BUILD/src/frontend/xnb-netfront" --domid 5 >"$DIR/nf.log" 2>&1 & NF=$!
"$SRC/tools/xnb-sim-vif" add 5 0
wait_for ip link show vif5.0
wait_for ip netns exec "$G" ip link show eth0
ip addr add 10.215.1.1/24 dev vif5.0; ip link set vif5.0 up
ip netns exec "$G" ip addr add 10.215.1.2/24 dev eth0; ip netns exec "$G" ip link set eth0 up
wait_for ping -c 1 -W 1 10.215.1.2

# veth path: 10.215.2.0/24
ip netns add "$V"
ip netns exec "$V" ip link set lo up
ip link add xnbbveth0 type veth peer name eth0 netns "$V"
ip addr add 10.215.2.1/24 dev xnbbveth0; ip link set xnbbveth0 up
ip netns exec "$V" ip addr add 10.215.2.2/24 dev eth0; ip netns exec "$V" ip link set eth0 up
wait_for ping -c 1 -W 1 10.215.2.2

# iperf NS HOST_IP GUEST_IP DIRECTION EXTRA... -> JSON on stdout
run_iperf() {
	ns=$1 hip=$2 gip=$3 dir=$4; shift 4
	if [ "$dir" = guest_to_host ]; then
		iperf3 -s -1 -B "$hip" >/dev/null 2>&1 &
		sleep 0.3
		ip netns exec "$ns" timeout $((SECS + 15)) iperf3 -c "$hip" -t "$SECS" -J "$@"
	else
		ip netns exec "$ns" iperf3 -s -1 -B "$gip" >/dev/null 2>&1 &
		sleep 0.3
		timeout $((SECS + 15)) iperf3 -c "$gip" -t "$SECS" -J "$@"
	fi
}

for dir in guest_to_host host_to_guest; do
	run_iperf "$G" 10.215.1.1 10.215.1.2 $dir >"$DIR/xnb-tcp.json" || true
	run_iperf "$V" 10.215.2.1 10.215.2.2 $dir >"$DIR/veth-tcp.json" || true
	run_iperf "$G" 10.215.1.1 10.215.1.2 $dir -u -b 0 -l 18 >"$DIR/xnb-udp.json" || true
	run_iperf "$V" 10.215.2.1 10.215.2.2 $dir -u -b 0 -l 18 >"$DIR/veth-udp.json" || true
	python3 - "$dir" "$DIR" <<'PY'
import json, sys
d, base = sys.argv[1], sys.argv[2]
def load(name):
    try:
        return json.load(open(f"{base}/{name}.json"))["end"]
    except Exception:
        return None
def tcp(e):
    return e["sum_received"]["bits_per_second"] / 1e9 if e else 0.0
def udp(e):
    if not e:
        return 0.0
    s = e["sum"]
    return (s["packets"] - s["lost_packets"]) / s["seconds"] / 1e3
x, v = tcp(load("xnb-tcp")), tcp(load("veth-tcp"))
print(json.dumps({"bench": "e2e", "test": "tcp", "direction": d, "xnb_gbps": round(x, 3),
                  "veth_gbps": round(v, 3), "ratio": round(x / v, 3) if v else None}))
x, v = udp(load("xnb-udp")), udp(load("veth-udp"))
print(json.dumps({"bench": "e2e", "test": "udp_64B_frames", "direction": d,
                  "xnb_kpps": round(x, 1), "veth_kpps": round(v, 1),
                  "ratio": round(x / v, 3) if v else None}))
PY
done

xnb_rtt=$(ping -c 20 -i 0.05 -q 10.215.1.2 | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
veth_rtt=$(ping -c 20 -i 0.05 -q 10.215.2.2 | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
printf '{"bench":"e2e","test":"ping_rtt","xnb_ms":%s,"veth_ms":%s}\n' "$xnb_rtt" "$veth_rtt"
"$BUILD/tools/xnbctl" stats vif5.0 --json >"$DIR/stats.json"
python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['vifs'][0]; print(json.dumps({'bench':'e2e','test':'counters','tx_dropped':s['tx_dropped'],'rx_dropped':s['rx_dropped'],'rx_stalls':s['rx_stalls'],'spurious_events':s['spurious_events']}))" "$DIR/stats.json"
