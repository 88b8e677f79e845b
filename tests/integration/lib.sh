# SPDX-License-Identifier: MIT
# lib.sh - what the integration tests share, sourced by each:
#   lib_init NAME TAG CMD...   skip (exit 77) unless root with every CMD;
#                              then DIR (a fresh /tmp/xnb-TAG.*), the
#                              simulated Xen's environment pointing into it,
#                              STEP=0 and VIF (tools/xnb-sim-vif)
#   ok TEXT / fail TEXT        one TAP line; fail also dumps the logs and exits 1
#   wait_for SECONDS CMD...    until CMD succeeds (every 0.1 s), or false
#   rss PID / fds PID          a process's VmRSS (KiB) and open fds
#   nf_pages LOG PID           xnb-netfront's shared and deferred pages
#   cpu_pct PID SECONDS        the % of one core PID used over the next
#                              SECONDS (utime + stime, all its threads);
#                              false if it is gone
#   iperf_server NETNS|- ADDRESS [PORT]
#                              iperf3 -s -1 bound there, listening when this
#                              returns (false after 5 s); IPERF_SRV its pid
# The caller sets BUILD and SRC first; DUMP_XS, if set, is a XenStore path
# that a failure lists besides the logs.

lib_init() {
	_name=$1 _tag=$2
	shift 2
	_missing=
	for _c in "$@"; do command -v "$_c" >/dev/null || _missing="$_missing $_c"; done
	if [ "$(id -u)" != 0 ] || [ -n "$_missing" ]; then
		echo "$_name: needs root and$(printf ' %s' "$@"): skipped"
		exit 77
	fi
	DIR=$(mktemp -d "/tmp/xnb-$_tag.XXXXXX")
	export XNB_SIM_DIR="$DIR" XENSTORED_PATH="$DIR/xenstored"
	STEP=0
	VIF="$SRC/tools/xnb-sim-vif"
}

log() { printf '%s\n' "$*"; }
dump() {
	for f in "$DIR"/*.log; do echo "--- $f"; tail -25 "$f"; done
	[ -z "${DUMP_XS:-}" ] || xenstore-ls "$DUMP_XS" 2>/dev/null | head -80
}
fail() { log "not ok $((STEP + 1)) - $*"; dump; exit 1; }
ok() { STEP=$((STEP + 1)); log "ok $STEP - $*"; }
wait_for() { t=$1; shift
	for _ in $(seq 1 $((t * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }
cpu_pct() {
	a=$(awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null) || return 1
	sleep "$2"
	b=$(awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$a" ] && [ -n "$b" ] || return 1
	echo $(((b - a) * 100 / ($2 * $(getconf CLK_TCK))))
}
iperf_server() {
	_ns=$1 _addr=$2 _port=${3:-5201}
	[ "$_ns" != - ] || _ns=
	${_ns:+ip netns exec "$_ns"} iperf3 -s -1 -B "$_addr" -p "$_port" >/dev/null 2>&1 &
	IPERF_SRV=$!
	case $_addr in *:*) _a="[$_addr]:$_port" ;; *) _a="$_addr:$_port" ;; esac
	wait_for 5 sh -c "${_ns:+ip netns exec $_ns} ss -Hltn 'src $_a' | grep -q ."
}
# nf_pages LOG PID: "SHARED DEFERRED", from the answer xnb-netfront (logging
# to LOG) gives a SIGUSR1.
nf_pages() {
	n=$(grep -c "SIGUSR1:" "$1")
	kill -USR1 "$2"
	wait_for 5 sh -c "[ \$(grep -c 'SIGUSR1:' '$1') -gt $n ]" || return 1
	grep "SIGUSR1:" "$1" | tail -1 |
		sed -n 's/.*shared pages \([0-9]*\), deferred pages \([0-9]*\).*/\1 \2/p'
}
