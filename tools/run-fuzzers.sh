#!/bin/sh
# SPDX-License-Identifier: MIT
# run-fuzzers.sh BUILD_FUZZ SECONDS NAME... - run each libFuzzer target for
# SECONDS, starting from its checked-in corpus (tests/fuzz/corpus/NAME) copied
# to a scratch directory, never writing into the tree. A finding stops the run
# with the fuzzer's report; each clean run adds a result line to
# BUILD_FUZZ/meson-logs/check-fuzz.json for the test summary.
set -eu

BUILD=$1 SECS=$2
shift 2
SRC=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$BUILD/artifacts" "$BUILD/meson-logs"
RESULTS="$BUILD/meson-logs/check-fuzz.json"
: >"$RESULTS"
for name in "$@"; do
	corpus="$BUILD/corpus/$name"
	mkdir -p "$corpus"
	if [ -d "$SRC/tests/fuzz/corpus/$name" ]; then
		cp -n "$SRC/tests/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null || true
	fi
	echo "fuzzing $name for ${SECS}s"
	if ! "$BUILD/tests/fuzz/$name" -max_total_time="$SECS" -print_final_stats=1 \
		-artifact_prefix="$BUILD/artifacts/$name-" "$corpus" 2>"$BUILD/$name.log"; then
		tail -40 "$BUILD/$name.log"
		echo "{\"name\": \"$name\", \"result\": \"FAIL\"}" >>"$RESULTS"
		exit 1
	fi
	grep -E 'stat::number_of_executed_units' "$BUILD/$name.log" || true
	echo "{\"name\": \"$name\", \"result\": \"OK\"}" >>"$RESULTS"
done
