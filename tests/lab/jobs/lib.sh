# SPDX-License-Identifier: MIT
# Helpers for the lab's dom0 jobs (sourced by job.sh from /mnt/host): step
# accounting in the `ok N - ...` form, time-based waits (under TCG every
# fork/exec in dom0 costs tens of ms: poll at >= 0.2 s, deadlines in seconds),
# guests created from /etc/xnblab/guest.cfg, and a command channel into a guest
# through its console (xenconsoled's pty), which needs no guest network.
OUT=/mnt/host/out
CONSOLE_DIR=/var/log/xen/console
STEP=0 PASSED=0 FAILED=0
XNBD_LOG=${XNBD_LOG:-}
# xnbctl: the installed one (the package), else a copy next to the job
XNBCTL=${XNBCTL:-$(command -v xnbctl || echo /tmp/xnbctl)}

now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
note() { echo "# $*"; }

# Keep a snapshot of the state around a failed step for the host's report.
diag() {
	local d pid=${XNBD_PID:-}
	{
		echo "# state when step $STEP failed: $1"
		echo "== xl list"; xl list
		echo "== xenstore-ls -f /local/domain/0/backend/vif"; xenstore-ls -f /local/domain/0/backend/vif
		for d in $(xenstore-list /local/domain 2>/dev/null); do
			[ "$d" = 0 ] && continue
			echo "== xenstore-ls -f /local/domain/$d/device/vif"; xenstore-ls -f /local/domain/$d/device/vif
		done
		echo "== ip -br link"; ip -br link
		echo "== brctl show"; brctl show
		echo "== lsmod (xen)"; lsmod | grep -E '^xen'
		if [ "$(systemctl show -p LoadState --value xnbd 2>/dev/null)" = loaded ]; then
			echo "== systemctl status xnbd"; systemctl status --no-pager -n 15 xnbd
			pid=$(systemctl show -p MainPID --value xnbd)
			[ "$pid" = 0 ] && pid=
		fi
		if [ -n "$pid" ]; then
			echo "== xnbd process"; ps -o pid,stat,wchan:20,time,cmd -p "$pid"
			echo "kernel stack:"; cat "/proc/$pid/stack" 2>/dev/null | head -n 12
		fi
		echo "== xnbd workers"; ps -o pid,ppid,user,stat,wchan:20,time,cmd -C xnbd-worker
		if [ -x "$XNBCTL" ]; then
			echo "== xnbctl list"; timeout 10 "$XNBCTL" list; echo "(xnbctl rc $?)"
			echo "== xnbctl stats"; timeout 10 "$XNBCTL" stats
			echo "== xnbctl dump-rings"; timeout 10 "$XNBCTL" dump-rings
		fi
		for g in "$CONSOLE_DIR"/guest-*.log; do
			[ -e "$g" ] && { echo "== $(basename "$g") (last 25 lines)"; tail -n 25 "$g" | tr -d '\r'; }
		done
	} > "$OUT/diag-$STEP.txt" 2>&1
}
ok() { STEP=$((STEP + 1)); PASSED=$((PASSED + 1)); echo "ok $STEP - $*"; }
not_ok() { STEP=$((STEP + 1)); FAILED=$((FAILED + 1)); echo "not ok $STEP - $*"; diag "$*"; }
# check DESC CMD...: one step, passed when CMD succeeds (its output stays in the log)
check() {
	local desc=$1; shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# finish: the job's summary line; the exit status says whether all passed
finish() {
	echo "$PASSED passed, $FAILED failed"
	[ $FAILED = 0 ]
	exit $?
}
# bail DESC: a step failed that the rest depends on; stop here
bail() { not_ok "$*"; note "stopping: later steps depend on this one"; finish; }

# wait_until SECONDS CMD...: poll CMD until it succeeds or the time is up
wait_until() {
	local end; end=$(awk -v n="$(now)" -v t="$1" 'BEGIN { print n + t }'); shift
	while :; do
		"$@" && return 0
		awk -v n="$(now)" -v e="$end" 'BEGIN { exit !(n >= e) }' && return 1
		sleep 0.3
	done
}
xs_is() { [ "$(xenstore-read "$1" 2>/dev/null)" = "$2" ]; }
link_exists() { [ -e "/sys/class/net/$1" ]; }
link_gone() { [ ! -e "/sys/class/net/$1" ]; }
in_bridge() { [ -e "/sys/class/net/$2/brif/$1" ]; }

# guest_create NAME [xl key=value...]: xl create the lab guest; prints its domid
guest_create() {
	local name=$1; shift
	xl create /etc/xnblab/guest.cfg "name='$name'" "$@" >&2 && xl domid "$name"
}
guest_log() { echo "$CONSOLE_DIR/guest-$1.log"; }
# console_count NAME PATTERN: how many console lines of the guest match
console_count() { grep -c -- "$2" "$(guest_log "$1")" 2>/dev/null || true; }
# wait_console NAME PATTERN SECONDS [N]: until at least N (default 1) lines match
wait_console() { wait_until "$3" console_has "$1" "$2" "${4:-1}"; }
console_has() { [ "$(console_count "$1" "$2")" -ge "$3" ]; }

# gexec NAME SECONDS CMD: run CMD in the guest's console shell, show its output,
# return its status (124 if no answer in time). The end marker is spelled so
# that the echo of the typed line cannot match it.
GEXEC_N=0
gexec() {
	local name=$1 secs=$2 cmd=$3 d tty log off rc
	GEXEC_N=$((GEXEC_N + 1))
	d=$(xl domid "$name") || return 125
	tty=$(xenstore-read "/local/domain/$d/console/tty") || return 125
	log=$(guest_log "$name")
	off=$(stat -c %s "$log")
	# The write can block if the guest stopped reading its console: bounded.
	CMDLINE=$(printf '%s; echo "XNBLAB""-R%d=$?"' "$cmd" "$GEXEC_N") TTY=$tty \
		timeout 10 bash -c 'printf "%s\n" "$CMDLINE" > "$TTY"' ||
		{ echo "gexec: cannot write to the console of $name ($tty)"; return 124; }
	if ! wait_until "$secs" eval 'tail -c +$((off + 1)) "$log" | grep -q "XNBLAB-R$GEXEC_N="'; then
		echo "gexec: no answer from $name in ${secs}s to: $cmd (sending ^C)"
		TTY=$tty timeout 5 bash -c 'printf "\003" > "$TTY"'
		tail -c +$((off + 1)) "$log" | tr -d '\r' | tail -n 20
		return 124
	fi
	tail -c +$((off + 1)) "$log" | tr -d '\r' | grep -v 'XNBLAB""-R' | sed "/XNBLAB-R$GEXEC_N=/q" |
		sed 's/^/  guest| /'
	rc=$(tail -c +$((off + 1)) "$log" | tr -d '\r' | sed -n "s/.*XNBLAB-R$GEXEC_N=\([0-9]*\).*/\1/p" | head -n 1)
	return "${rc:-125}"
}

# iperf_mbps FILE: receiver's throughput in an iperf3 -J TCP result
iperf_mbps() {
	awk '/"sum_received"/ { f = 1 } f && /"bits_per_second"/ { gsub(/[ ,]/, ""); split($0, a, ":"); printf "%.0f", a[2] / 1e6; exit }' "$1"
}
# tcp_step DESC FILE IPERF3-ARGS...: one iperf3 TCP run as a step (passes above 1 Mbit/s)
tcp_step() {
	local desc=$1 file=$2 mbps; shift 2
	if timeout 90 iperf3 -J "$@" > "$file" 2>&1; then
		mbps=$(iperf_mbps "$file")
		if [ "${mbps:-0}" -ge 1 ]; then ok "$desc: $mbps Mbit/s"; return 0; fi
	fi
	tail -n 20 "$file"; not_ok "$desc"
	return 1
}
