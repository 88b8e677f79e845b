#!/bin/sh
# SPDX-License-Identifier: MIT
# test_xnbctl.sh - xnbctl's answers about a live guest over the simulated
# platform: list, show, stats (text, JSON, Prometheus), the counters' reset,
# status. One guest, domid 71 (no other test uses it), pinged both ways;
# for the joining of several workers' answers, a vif of domid 72 that no
# frontend connects to. Needs root; exits 77 (skipped) without it. The Prometheus text is checked
# by `promtool check metrics` when installed (Debian: prometheus), and by a
# checker of its own here in any case.
#
# usage: test_xnbctl.sh BUILD_DIR SOURCE_DIR
set -u

BUILD=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"
lib_init test_xnbctl ctl ping python3

D=71 E=72
G=xnbctl$D.$$
CTL="$BUILD/tools/xnbctl"

cleanup() {
	[ -n "${XNBD:-}" ] && "$CTL" shutdown --disconnect >/dev/null 2>&1
	for p in ${NF:-} ${XNBD:-} ${SIMD:-}; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	for p in ${NF:-} ${XNBD:-} ${SIMD:-}; do kill -9 "$p" 2>/dev/null; done
	ip netns del "$G" 2>/dev/null
	ip link del "vif$D.0" 2>/dev/null; ip link del "vif$E.0" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

"$BUILD/src/sim/xnb-simd" --foreground --dir "$DIR" >"$DIR/simd.log" 2>&1 &
SIMD=$!
wait_for 5 test -S "$DIR/xenstored" || fail "xnb-simd did not start"
"$BUILD/src/backend/xnbd" >"$DIR/xnbd.log" 2>&1 &
XNBD=$!
wait_for 5 test -S "$DIR/xnbd.sock" || fail "xnbd did not start"
ip netns add "$G"
ip netns exec "$G" ip link set lo up
ip netns exec "$G" "$BUILD/src/frontend/xnb-netfront" --domid $D --no-reconnect \
	>"$DIR/nf.log" 2>&1 &
NF=$!
"$SRC/tools/xnb-sim-vif" add $D 0
wait_for 5 sh -c "[ \"\$(xenstore-read /local/domain/0/backend/vif/$D/0/state)\" = 4 ]" ||
	fail "vif$D.0 did not connect"
# Quiet links (no IPv6 autoconfiguration chatter), so that counters move
# only with the traffic sent here.
sysctl -qw "net.ipv6.conf.vif$D/0.disable_ipv6=1" 2>/dev/null
wait_for 5 ip netns exec "$G" ip link show eth0 || fail "the guest has no eth0"
ip netns exec "$G" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
ip netns exec "$G" ip addr replace 10.214.$D.2/24 dev eth0
ip netns exec "$G" ip link set eth0 up
ip addr replace 10.214.$D.1/24 dev "vif$D.0"
ip link set "vif$D.0" up
wait_for 5 ping -c 1 -W 1 10.214.$D.2 || fail "ping host -> guest"
ip netns exec "$G" ping -c 5 -i 0.2 -W 1 10.214.$D.1 >/dev/null || fail "ping guest -> host"
ok "guest $D Connected, ping both ways"

# --- list, show --------------------------------------------------------------
"$CTL" list | grep -q "^vif$D.0  *Connected  *tap vif$D.0 " || fail "list: $("$CTL" list)"
SHOW=$("$CTL" show vif$D.0) || fail "show"
for want in "name: *vif$D.0\$" "state: *Connected\$" "tap: *vif$D.0\$" "mtu: *1500\$" \
	"queues: *[1-9]" "^features:\$" "^  sg: *yes\$" "split_event_channels: *yes\$" \
	"frontend: */local/domain/$D/device/vif/0\$" "^multicast: "; do
	printf '%s\n' "$SHOW" | grep -q "$want" || fail "show: no line /$want/ in:
$SHOW"
done
"$CTL" show vif$D.0 --json >"$DIR/show.json" || fail "show --json"
python3 - "$DIR/show.json" $D <<'PY' || fail "show --json: $(cat "$DIR/show.json")"
import json, sys
v = json.load(open(sys.argv[1]))["vifs"]
assert len(v) == 1, v
v, d = v[0], int(sys.argv[2])
assert v["name"] == f"vif{d}.0" and v["domid"] == d and v["devid"] == 0, v
assert v["state"] == "Connected" and v["connected"] is True and v["broken"] == "", v
assert v["tap"] == f"vif{d}.0" and v["mtu"] == 1500 and v["queues"] >= 1, v
assert v["frontend"] == f"/local/domain/{d}/device/vif/0", v
f = v["features"]
assert set(f) == {"sg", "gso_tcpv4", "gso_tcpv6", "csum", "ipv6_csum", "mcast_control"}, f
assert all(isinstance(x, bool) for x in f.values()) and f["sg"] and f["gso_tcpv4"], f
assert v["split_event_channels"] is True and isinstance(v["multicast"], list), v
PY
[ "$("$CTL" show vif$D.9 --json)" = '{"vifs":[]}' ] || fail "show of an unknown vif"
ok "list; show (text, JSON): state, TAP, paths, mtu, queues, features, split, multicast"

# --- stats: text, JSON ---------------------------------------------------------
TEXT=$("$CTL" stats vif$D.0) || fail "stats"
for want in "^vif$D.0 queue 0 (Connected)\$" "^vif$D.0 total ([1-9][0-9]* queues*)\$" \
	"^  guest tx: *packets [1-9]" "gso_csum_fixup [0-9]" "^  rx drops: *empty [0-9]" \
	" csum [0-9]" " copy_errors [0-9]" " mcast_ops [0-9]" " csum_completed [0-9]"; do
	printf '%s\n' "$TEXT" | grep -q "$want" || fail "stats: no line /$want/ in:
$TEXT"
done
"$CTL" stats vif$D.0 --json >"$DIR/stats.json" || fail "stats --json"
cat >"$DIR/check_stats.py" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
d = int(sys.argv[2])
queues, totals = s["vifs"], s["totals"]
ids = ("name", "domid", "devid", "queue", "state", "broken")
# The names readers of the JSON already use, unchanged.
old = ["tx_packets", "tx_bytes", "tx_dropped", "tx_errors", "tx_csum_partial", "tx_gso",
       "rx_packets", "rx_bytes", "rx_dropped", "rx_copy_errors", "rx_gso", "rx_queue_drops",
       "rx_stalls", "rx_mcast_filtered", "events", "spurious_events", "eoi_delayed",
       "notify_tx", "notify_rx", "copy_batches"]
new = ["tx_requests", "tx_batches", "tx_csum_completed", "tx_gso_csum_fixup", "tx_mcast_ops",
       "tx_drop_slots_over", "tx_drop_size_underflow", "tx_drop_runt", "tx_drop_bad_extra",
       "tx_drop_bad_gso", "tx_drop_bad_csum", "tx_drop_copy", "tx_drop_host",
       "rx_responses", "rx_batches", "rx_csum_completed", "rx_drop_empty", "rx_drop_too_big",
       "rx_drop_gso", "rx_drop_csum", "rx_drop_copy", "rx_host_unsupported", "copy_errors"]
assert len(totals) == 1, totals
t = totals[0]
assert t["name"] == f"vif{d}.0" and t["domid"] == d and t["devid"] == 0, t
assert [q["queue"] for q in queues] == list(range(t["queues"])), (queues, t)
counters = [k for k in queues[0] if k not in ids]
missing = [k for k in old + new if k not in counters]
assert not missing, missing
assert sorted(counters) == sorted(k for k in t if k not in ("name", "domid", "devid", "queues"))
for k in counters:
    assert isinstance(t[k], int) and t[k] >= 0, (k, t[k])
    assert t[k] == sum(q[k] for q in queues), (k, t[k])
assert t["tx_packets"] >= 5 and t["rx_packets"] >= 5, t
assert t["rx_drop_copy"] == t["rx_copy_errors"], t
assert t["tx_errors"] == t["tx_dropped"] - t["tx_drop_host"], t
print(json.dumps(t))
PY
python3 "$DIR/check_stats.py" "$DIR/stats.json" $D >"$DIR/total.json" ||
	fail "stats --json: $(cat "$DIR/stats.json")"
ok "stats (text, JSON): every counter per queue and a total per vif, old names kept"

# --- two workers' answers joined -------------------------------------------------
"$SRC/tools/xnb-sim-vif" add $E 0
wait_for 5 sh -c "\"$CTL\" list vif$E.0 | grep -q InitWait" || fail "no worker for vif$E.0"
"$CTL" stats --json | python3 -c "
import json, sys
s = json.load(sys.stdin)
assert sorted(t['name'] for t in s['totals']) == ['vif$D.0', 'vif$E.0'], s['totals']
assert sorted({q['name'] for q in s['vifs']}) == ['vif$D.0', 'vif$E.0'], s['vifs']" ||
	fail "stats --json of two workers: $("$CTL" stats --json)"
[ "$("$CTL" list | wc -l)" = 2 ] && [ "$("$CTL" show | grep -c '^name:')" = 2 ] ||
	fail "list, show of two workers"
ok "stats --json, list, show: two workers' answers joined"

# --- stats --prometheus --------------------------------------------------------
"$CTL" stats --prometheus >"$DIR/xnb.prom" || fail "stats --prometheus"
if command -v promtool >/dev/null; then
	promtool check metrics <"$DIR/xnb.prom" >"$DIR/promtool.log" 2>&1 ||
		fail "promtool check metrics: $(cat "$DIR/promtool.log")"
	PROMTOOL="promtool check metrics and "
fi
# Text format 0.0.4 as the textfile collector parses it, and our rules.
python3 - "$DIR/xnb.prom" $D $E <<'PY' || fail "Prometheus text: $(head -20 "$DIR/xnb.prom")"
import re, sys
text = open(sys.argv[1]).read()
d = sys.argv[2]
assert text.endswith("\n"), "no final newline"
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label_re = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample_re = re.compile(rf"^({name_re})(\{{(?:{label_re}(?:,{label_re})*)?\}})? (\S+)$")
helped, typed, done, types, samples = set(), {}, set(), {}, {}
current = None
for n, line in enumerate(text.splitlines(), 1):
    where = f"line {n}: {line!r}"
    assert line, f"{where}: blank line"
    m = re.match(rf"^# (HELP|TYPE) ({name_re}) (.+)$", line)
    if m:
        kind, fam, rest = m.groups()
        assert fam.startswith("xnb_"), where
        if fam != current:
            assert fam not in done, f"{where}: family {fam} split"
            if current:
                done.add(current)
            current = fam
        if kind == "HELP":
            assert fam not in helped and fam not in samples, f"{where}: second or late HELP"
            helped.add(fam)
        else:
            assert fam not in typed and fam not in samples, f"{where}: second or late TYPE"
            assert rest in ("counter", "gauge"), where
            typed[fam] = rest
        continue
    assert not line.startswith("#"), where
    m = sample_re.match(line)
    assert m, f"{where}: not a sample"
    fam, labels, value = m.groups()
    assert fam == current, f"{where}: sample away from its family"
    float(value)
    assert int(value) >= 0, where
    labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"', labels or ""))
    key = tuple(sorted(labels.items()))
    assert key not in samples.setdefault(fam, set()), f"{where}: duplicate series"
    samples[fam].add(key)
    if typed[fam] == "counter":
        assert fam.endswith("_total"), where
    if fam.startswith("xnb_worker_"):
        assert set(labels) == {"domid"}, where
    else:
        assert set(labels) == {"vif", "domid", "devid", "queue"}, where
        assert labels["vif"] == f"vif{labels['domid']}.{labels['devid']}", where
for fam in samples:
    assert fam in helped and fam in typed, f"{fam}: no HELP or TYPE"
def value(fam, **want):
    for line in text.splitlines():
        m = sample_re.match(line)
        if m and m.group(1) == fam and all(f'{k}="{v}"' in (m.group(2) or "") for k, v in want.items()):
            return int(m.group(3))
    raise AssertionError(f"no {fam} {want}")
def total(fam, **want):
    """Summed over the vif's queues: which queue a flow uses is the kernel's choice."""
    n = 0
    for line in text.splitlines():
        m = sample_re.match(line)
        if m and m.group(1) == fam and all(f'{k}="{v}"' in (m.group(2) or "") for k, v in want.items()):
            n += int(m.group(3))
    return n
assert total("xnb_tx_packets_total", vif=f"vif{d}.0") >= 5
assert total("xnb_rx_packets_total", vif=f"vif{d}.0") >= 5
assert value("xnb_worker_up", domid=d) == 1
assert value("xnb_worker_restarts_total", domid=d) == 0
# Two workers' parts, regrouped: every family has both guests' samples.
e = sys.argv[3]
for fam in samples:
    if not fam.startswith("xnb_worker_"):
        assert {dict(k)["domid"] for k in samples[fam]} == {d, e}, (fam, samples[fam])
assert value("xnb_rx_packets_total", vif=f"vif{e}.0") == 0
assert value("xnb_worker_up", domid=e) == 1
for fam in ("xnb_tx_gso_csum_fixup_total", "xnb_rx_drop_csum_total", "xnb_rx_drop_empty_total",
            "xnb_copy_errors_total", "xnb_tx_mcast_ops_total", "xnb_tx_csum_completed_total"):
    value(fam, vif=f"vif{d}.0")
assert "rx_copy_errors" not in text
print(len(samples), "families")
PY
ok "stats --prometheus: ${PROMTOOL:-}the test's checker accept two workers' answers, regrouped"

# --- reset -------------------------------------------------------------------
"$CTL" stats vif$D.0 --reset --json >"$DIR/before.json" || fail "stats --reset"
"$CTL" stats vif$D.0 --json >"$DIR/after.json" || fail "stats after the reset"
python3 - "$DIR/before.json" "$DIR/after.json" <<'PY' || fail "stats --reset"
import json, sys
b, a = (json.load(open(f))["totals"][0] for f in sys.argv[1:3])
assert b["tx_packets"] >= 5 and b["rx_packets"] >= 5, b
# Zeroed; a stray ARP may have come since.
for k, v in a.items():
    if isinstance(v, int) and k not in ("domid", "devid", "queues"):
        assert v <= 3 or (k.endswith("bytes") and v <= 300), (k, v, b[k])
PY
ip netns exec "$G" ping -c 3 -i 0.2 -W 1 10.214.$D.1 >/dev/null || fail "ping after the reset"
NQ=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vifs"][0]["queues"])' \
	"$DIR/show.json")
[ "$NQ" = 1 ] && QS="1 queue" || QS="$NQ queues"
[ "$("$CTL" reset vif$D.0)" = "vif$D.0: counters of $QS reset" ] ||
	fail "reset: $("$CTL" reset vif$D.0)"
"$CTL" stats vif$D.0 --json | python3 -c '
import json, sys
t = json.load(sys.stdin)["totals"][0]
assert t["tx_packets"] <= 2 and t["rx_packets"] <= 2, t' || fail "reset: counters not zeroed"
"$CTL" reset --json | python3 -c "
import json, sys
r = json.load(sys.stdin)['reset']
assert sorted((x['name'], x['queues']) for x in r) == [('vif$D.0', $NQ), ('vif$E.0', 1)], r" ||
	fail "reset --json: $("$CTL" reset --json)"
ok "stats --reset reads then zeroes; reset [VIF] zeroes"

# --- status, errors, help ---------------------------------------------------
"$CTL" status --json | python3 -c "
import json, sys
s = json.load(sys.stdin)
w = [w for w in s['workers'] if w['domid'] == $D]
assert s['vifs'] == 2 and s['workers_running'] == 2, s
assert len(w) == 1 and w[0]['running'] and w[0]['restarts'] == 0 and w[0]['pid'] > 0, s" ||
	fail "status --json: $("$CTL" status --json)"
"$CTL" status | grep -q "^  worker domid $D: running, pid [0-9]*, up [0-9]*s, 0 restarts\$" ||
	fail "status: $("$CTL" status)"
"$CTL" frobnicate >/dev/null 2>&1 && fail "an unknown command exits 0"
"$CTL" --help | grep -q -- "--prometheus" || fail "--help does not tell of --prometheus"
ok "status (text, JSON) with the workers' restarts; unknown command exits 1; --help"
