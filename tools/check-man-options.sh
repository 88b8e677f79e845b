#!/bin/sh
# SPDX-License-Identifier: MIT
# check-man-options.sh PROGRAM PAGE.scd - every long option that PROGRAM's
# --help prints (usage and descriptions alike) appears in its man page's
# source. Registered with meson (suite 'docs', doc/meson.build).
set -u
prog=$1 page=$2

# Some programs print their usage on stderr and exit 2 for --help-less
# invocations; take whatever they print.
help=$("$prog" --help 2>&1)
opts=$(printf '%s\n' "$help" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
if [ -z "$opts" ]; then
	echo "$prog --help prints no long option: nothing to check?"
	exit 1
fi
missing=0
for o in $opts; do
	if ! grep -qE -- "$o([^a-z0-9-]|\$)" "$page"; then
		echo "$page: $o (in $prog --help) is not documented"
		missing=1
	fi
done
[ $missing = 0 ] && echo "$(basename "$page"): all $(echo "$opts" | wc -l) options of --help documented"
exit $missing
