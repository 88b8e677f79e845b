#!/bin/bash
# SPDX-License-Identifier: MIT
# `make lab-test`: build xnb on the host, bring the lab up to date, then the
# interop jobs on a real Xen host in QEMU:
#   (a) xnbd serving Linux's xen-netfront (dom0 without xen-netback): the
#       Debian package (`make deb`), installed with `dpkg -i` in dom0, xnbd
#       run by systemd (`systemctl enable --now xnbd`)
#   (b) xnb-netfront (from the meson build) against Linux's xen-netback
# Each job prints `ok N - ...` lines; the run ends with `N passed, N failed`.
# Usage: test.sh [a|b]...   (default: both)
. "$(dirname "$0")/lab.sh"
SRC=$(cd "$LAB_DIR/../.." && pwd)
BUILD=${XNB_LAB_BUILD:-$LAB_CACHE/xnb-build}
# The package's build directory (make deb's BUILD_DEB), beside the meson one.
DEBDIR=${XNB_LAB_DEB:-$BUILD-deb}
JOBS=("$@"); [ ${#JOBS[@]} -gt 0 ] || JOBS=(a b)

T0=$(date +%s)
if [[ " ${JOBS[*]} " == *" b "* ]]; then
	say "building xnb in $BUILD"
	[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$SRC" > "$LAB_CACHE/meson-setup.log" 2>&1 ||
		{ tail -n 30 "$LAB_CACHE/meson-setup.log"; die "step 'meson setup'"; }
	ninja -C "$BUILD" > "$LAB_CACHE/ninja.log" 2>&1 || { tail -n 40 "$LAB_CACHE/ninja.log"; die "step 'ninja'"; }
fi
DEB=
if [[ " ${JOBS[*]} " == *" a "* ]]; then
	# `make deb` (build dependencies, dpkg-buildpackage, lintian), redone when
	# the tree it packs changes: the key is the hash of the same files. Its
	# tests are skipped (nocheck): `make check` runs them all.
	VERSION=$(sed -n "s/^ *version: '\([^']*\)',.*/\1/p" "$SRC/meson.build" | head -n 1)
	DEB=$DEBDIR/xnb_${VERSION}_amd64.deb
	KEY=$(cd "$SRC" && tar -cf - --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		--exclude=./.git --exclude='./build*' --exclude='./obj-*' . | sha256sum | cut -c1-16)
	if [ -f "$DEB" ] && [ "$(cat "$DEBDIR.key" 2>/dev/null)" = "$KEY" ]; then
		say "xnb package up to date: $DEB"
	else
		say "building the xnb package (make deb) in $DEBDIR"
		rm -f "$DEBDIR.key"
		DEB_BUILD_OPTIONS=nocheck make -C "$SRC" deb BUILD_DEB="$DEBDIR" > "$LAB_CACHE/make-deb.log" 2>&1 ||
			{ tail -n 40 "$LAB_CACHE/make-deb.log"; die "step 'make deb' (log: $LAB_CACHE/make-deb.log)"; }
		[ -f "$DEB" ] || die "make deb made no $DEB"
		echo "$KEY" > "$DEBDIR.key"
	fi
fi
"$LAB_DIR/build.sh" || die "step 'lab build'"

PASSED=0 FAILED=0
# run_job LETTER RUN.SH-ARGS...: one job; its summary line is added to the totals
run_job() {
	local letter=$1 dir=$LAB_RUNS/$1-$(date +%Y%m%d-%H%M%S) rc line t=$(date +%s); shift
	set +e
	"$LAB_DIR/run.sh" --dir "$dir" "$@"
	rc=$?
	set -e
	line=$( { grep -E '^[0-9]+ passed, [0-9]+ failed$' "$dir/out/job.log" 2>/dev/null || true; } | tail -n 1)
	if [ -n "$line" ]; then
		PASSED=$((PASSED + ${line%% *}))
		line=${line#*, }; FAILED=$((FAILED + ${line%% *}))
	fi
	# A job that stopped without its summary (timeout, crash) counts as one failure.
	if [ $rc != 0 ] && { [ -z "$line" ] || [ "${line%% *}" = 0 ]; }; then
		echo "not ok - job ($letter) did not complete (rc $rc)"
		FAILED=$((FAILED + 1))
	fi
	say "job ($letter): rc $rc in $(( $(date +%s) - t ))s"
}
for j in "${JOBS[@]}"; do
	case $j in
	a) run_job a --netback=0 --timeout 2400 "$LAB_DIR/jobs/xnbd-linux-netfront.sh" "$DEB" ;;
	b) run_job b --netback=1 --timeout 900 "$LAB_DIR/jobs/xnb-netfront-linux-netback.sh" \
		"$BUILD/src/frontend/xnb-netfront" ;;
	*) die "unknown job '$j' (a or b)" ;;
	esac
done
say "lab-test done in $(( $(date +%s) - T0 ))s"
echo "$PASSED passed, $FAILED failed"
[ $FAILED = 0 ]
