#!/bin/bash
# SPDX-License-Identifier: MIT
# fuzz-campaign.sh BUILD_FUZZ CPU_SECONDS PARALLEL NAME... - a long fuzz
# campaign on a shared machine: each libFuzzer target runs, PARALLEL at a
# time and at the lowest priority, until it has used CPU_SECONDS of CPU time
# (not wall-clock time: on a busy machine an hour of wall time may be ten
# minutes of fuzzing). Corpora start from tests/fuzz/corpus/NAME and grow in
# BUILD_FUZZ/campaign/NAME; findings land in BUILD_FUZZ/campaign/artifacts.
# One JSON line per target on stdout: CPU seconds, wall seconds, runs, the
# corpus size, and whether it found something. Do not pause the fuzzers
# (SIGSTOP) to free the machine: libFuzzer's per-input time limit counts
# wall time, so a pause longer than 20 min reads as a hang (a "timeout" or
# "slow-unit" artifact whose input runs in milliseconds).
set -eu

BUILD=$1 CPU=$2 PAR=$3
shift 3
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=$BUILD/campaign
mkdir -p "$OUT/artifacts"
HZ=$(getconf CLK_TCK)

# cpu_seconds PID: user + system time of the process so far
cpu_seconds() {
	awk -v hz="$HZ" '{ sub(/^.*\) /, ""); print int(($12 + $13) / hz) }' "/proc/$1/stat" 2>/dev/null ||
		echo 0
}

# run_one NAME: fuzz NAME until it used $CPU s of CPU, then report
run_one() {
	name=$1 corpus=$OUT/$name log=$OUT/$name.log
	mkdir -p "$corpus"
	if [ -d "$SRC/tests/fuzz/corpus/$name" ]; then
		cp -n "$SRC/tests/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null || true
	fi
	start=$(date +%s)
	nice -n 19 "$BUILD/tests/fuzz/$name" -print_final_stats=1 -max_total_time=86400 \
		-artifact_prefix="$OUT/artifacts/$name-" "$corpus" >"$log" 2>&1 &
	pid=$!
	used=0
	while kill -0 "$pid" 2>/dev/null; do
		used=$(cpu_seconds "$pid")
		[ "$used" -ge "$CPU" ] && { kill -INT "$pid" 2>/dev/null; break; }
		sleep 10
	done
	rc=0
	wait "$pid" || rc=$?
	runs=$(sed -n 's/.*stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	[ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	found=false
	ls "$OUT/artifacts/$name-"* >/dev/null 2>&1 && found=true
	printf '{"fuzz":"campaign","target":"%s","cpu_seconds":%s,"wall_seconds":%s,"runs":%s,"corpus":%s,"finding":%s,"exit":%s}\n' \
		"$name" "$used" "$(( $(date +%s) - start ))" "${runs:-0}" "$(ls "$corpus" | wc -l)" "$found" "$rc"
}

# PARALLEL at a time, each target started as another finishes.
running=0
for name in "$@"; do
	if [ $running -ge "$PAR" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	run_one "$name" &
	running=$((running + 1))
done
wait
