#!/bin/sh
# Install brummd's build dependencies when any is missing.
# Debian/Ubuntu: apt-get, as root or through sudo. Elsewhere: say what is needed.
set -u
need=""
command -v make >/dev/null 2>&1 || need="$need make"
command -v cc >/dev/null 2>&1 || need="$need gcc libc6-dev"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
# make check runs the examples of README.md and man/ (scripts/check-examples.py),
# which pipe into jq and socat.
command -v python3 >/dev/null 2>&1 || need="$need python3"
command -v jq >/dev/null 2>&1 || need="$need jq"
command -v socat >/dev/null 2>&1 || need="$need socat"
# tests/test_top.c drives `brummctl top` in a detached tmux (it SKIPs without).
command -v tmux >/dev/null 2>&1 || need="$need tmux"
# tests/test_ssh.c runs brummctl -H against a throwaway sshd on 127.0.0.1
# (it SKIPs without them). Debian's openssh-server also enables the ssh
# service where an init system runs.
command -v ssh >/dev/null 2>&1 || need="$need openssh-client"
[ -x /usr/sbin/sshd ] || need="$need openssh-server"
for pair in libuv:libuv1-dev libcjson:libcjson-dev liburcu-memb:liburcu-dev \
            liburcu-cds:liburcu-dev libpcre2-8:libpcre2-dev ncursesw:libncurses-dev \
            libmicrohttpd:libmicrohttpd-dev check:check; do
	pc=${pair%%:*}; deb=${pair#*:}
	if ! pkg-config --exists "$pc" 2>/dev/null; then
		case " $need " in *" $deb "*) ;; *) need="$need $deb" ;; esac
	fi
done
[ -z "$need" ] && exit 0

echo "deps: missing build dependencies:$need" >&2
if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: no apt-get here; install the equivalents of:$need" >&2
	echo "deps: (libuv >= 1.44, cJSON, liburcu >= 0.13, libmicrohttpd >= 0.9.75, ncursesw with" >&2
	echo "deps: its static libraries, Check, pkg-config; python3, jq, socat and tmux for make check;" >&2
	echo "deps: OpenSSH's client and server for test_ssh)" >&2
	exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: not root and no sudo: run as root: apt-get install$need" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2 || { echo "deps: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $need >&2 || { echo "deps: apt-get install$need failed" >&2; exit 1; }
exit 0
