# SPDX-License-Identifier: MIT
# Shared by the lab dom0's xnblab-setup and xnblab-job (sourced).
up() { cut -d' ' -f1 /proc/uptime; }
note() { echo "xnblab [$(up)s] $*"; }
arg() {   # arg NAME DEFAULT: value of NAME=... on the kernel command line
	local a
	for a in $(cat /proc/cmdline); do
		case $a in "$1="*) echo "${a#*=}"; return ;; esac
	done
	echo "$2"
}
