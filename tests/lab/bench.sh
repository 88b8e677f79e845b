#!/bin/bash
# SPDX-License-Identifier: MIT
# `make bench-lab`: one lab boot (jobs/bench.sh) measures the same guest
# through xnbd and through the kernel's xen-netback, alternating for
# BENCH_ROUNDS rounds (default 3) of BENCH_SECONDS (default 10) per run; prints
# one JSON line per test and direction with each backend's median over the
# rounds, the ratio of the medians xnb/kernel, and every run. BENCH_TESTS
# picks tests (default "tcp udp64 tcp4 tcp4mq tcp4mq1"). The numbers are
# TCG-bound: compare them only with each other.
. "$(dirname "$0")/lab.sh"
SRC=$(cd "$LAB_DIR/../.." && pwd)
BUILD=${XNB_LAB_BUILD:-$LAB_CACHE/xnb-build}

[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$SRC" > "$LAB_CACHE/meson-setup.log" 2>&1 ||
	{ tail -n 30 "$LAB_CACHE/meson-setup.log"; die "step 'meson setup'"; }
ninja -C "$BUILD" > "$LAB_CACHE/ninja.log" 2>&1 || { tail -n 40 "$LAB_CACHE/ninja.log"; die "step 'ninja'"; }
"$LAB_DIR/build.sh" || die "step 'lab build'"

DIR=$LAB_RUNS/bench-$(date +%Y%m%d-%H%M%S)
set +e
ROUNDS=${BENCH_ROUNDS:-3}
# A round of all five tests is about 7 min under TCG with 10 s runs (three
# guests per backend): leave room for a busy host.
"$LAB_DIR/run.sh" --dir "$DIR" --netback=0 --timeout $((300 + ROUNDS * 900)) --env "BENCH_SECONDS=${BENCH_SECONDS:-10}" --env "BENCH_ROUNDS=$ROUNDS" \
	--env "BENCH_TESTS=${BENCH_TESTS:-tcp udp64 tcp4 tcp4mq tcp4mq1}" \
	"$LAB_DIR/jobs/bench.sh" "$BUILD/src/backend/xnbd" "$BUILD/src/backend/worker/xnbd-worker"
RC=$?
set -e
python3 - "$DIR/out" <<'PY'
import json, os, sys
out = sys.argv[1]

def result(path, test):
    try:
        with open(path) as f:
            end = json.load(f)["end"]
    except (OSError, ValueError, KeyError):
        return None
    if test.startswith("tcp"):
        return round(end["sum_received"]["bits_per_second"] / 1e6, 1)
    # UDP: what arrived at the receiver, in thousands of 18-byte datagrams a second
    s = end.get("sum_received") or end.get("sum")
    if not s or not s.get("seconds"):
        return None
    got = s["bytes"] if "sum_received" in end else s["bytes"] * (1 - s.get("lost_percent", 0) / 100)
    return round(got / 18 / s["seconds"] / 1e3, 2)

def runs(backend, test, direction):
    out_runs = []
    for r in range(1, 100):
        path = os.path.join(out, f"bench-{backend}-{test}-{direction}-{r}.json")
        if not os.path.exists(path):
            break
        out_runs.append(result(path, test))
    return out_runs

def median(values):
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else round((v[mid - 1] + v[mid]) / 2, 2)

for test, unit in (("tcp", "mbps"), ("udp64", "kpps"), ("tcp4", "mbps"), ("tcp4mq", "mbps"),
                   ("tcp4mq1", "mbps")):
    for direction in ("dom0_to_domU", "domU_to_dom0"):
        xr, kr = runs("xnb", test, direction), runs("kernel", test, direction)
        x, k = median(xr), median(kr)
        print(json.dumps({"bench": "lab", "test": test, "direction": direction,
                          f"xnb_{unit}": x, f"kernel_{unit}": k,
                          "ratio": round(x / k, 3) if x is not None and k else None,
                          "rounds": len(xr), f"xnb_runs": xr, f"kernel_runs": kr},
                         separators=(",", ":")))

# Several queues against one, per backend: 4 streams into the 2-vcpu guest
# over 4 streams into the 1-vcpu guest, same rounds.
for direction in ("dom0_to_domU", "domU_to_dom0"):
    row = {"bench": "lab", "test": "tcp4_multiqueue_gain", "direction": direction}
    for backend in ("xnb", "kernel"):
        one, mq = median(runs(backend, "tcp4", direction)), median(runs(backend, "tcp4mq", direction))
        row[f"{backend}_one_queue_mbps"], row[f"{backend}_two_queues_mbps"] = one, mq
        row[f"{backend}_gain"] = round(mq / one, 3) if one and mq is not None else None
    print(json.dumps(row, separators=(",", ":")))

# Two queues against one at the same 2 vcpus: tcp4mq over tcp4mq1, so that
# the second vcpu's cost (under TCG, host CPU the backend needs) is on both sides.
for direction in ("dom0_to_domU", "domU_to_dom0"):
    row = {"bench": "lab", "test": "tcp4_multiqueue_gain_2vcpus", "direction": direction}
    for backend in ("xnb", "kernel"):
        one = median(runs(backend, "tcp4mq1", direction))
        mq = median(runs(backend, "tcp4mq", direction))
        row[f"{backend}_one_queue_mbps"], row[f"{backend}_two_queues_mbps"] = one, mq
        row[f"{backend}_gain"] = round(mq / one, 3) if one and mq is not None else None
    print(json.dumps(row, separators=(",", ":")))
PY
exit $RC
