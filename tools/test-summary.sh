#!/bin/sh
# SPDX-License-Identifier: MIT
# Sum the results of the test logs named on the command line (meson's JSON
# lines, one test a line) into one closing line: "N passed, N failed, N skipped".
# A log that is missing counts as a failure: its run did not happen.
set -eu
python3 - "$@" <<'PY'
import json, sys
passed = failed = skipped = 0
for log in sys.argv[1:]:
    try:
        lines = open(log).read().splitlines()
    except OSError:
        print(f"missing test log: {log}")
        failed += 1
        continue
    for line in lines:
        result = json.loads(line).get("result")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"xnb tests: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
