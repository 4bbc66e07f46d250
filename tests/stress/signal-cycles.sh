#!/bin/sh
# Start brummd, ping it, SIGTERM it; N times. Fails at the first brummd that
# does not exit 0 within 5 s of its SIGTERM, after printing each thread's
# pending and blocked signals. Under TSan this found the lost-SIGTERM bug
# that daemon/signals.c fixes (about 1 in 200 cycles before).
#
#   make stress [SAN=thread] [STRESS_CYCLES=1000]
#   sh tests/stress/signal-cycles.sh BINDIR CYCLES
set -u
bindir=${1:?usage: signal-cycles.sh BINDIR [CYCLES]}
# socat, because the client must be quick to start: a SIGTERM that comes
# while brummd finishes its start-up is the case to hit (a TSan-built
# brummctl, or python, starts too slowly to reach that window).
command -v socat >/dev/null 2>&1 || {
	echo "signal-cycles: needs socat (apt-get install -y socat)" >&2; exit 1; }
cycles=${2:-500}
i=0
while [ "$i" -lt "$cycles" ]; do
	i=$((i + 1))
	d=$(mktemp -d /tmp/brm-stress.XXXXXX)
	BRUMMD_STATE_DIR=$d "$bindir/brummd" --socket "$d/s" >"$d/log" 2>&1 &
	pid=$!
	# Wait for the socket, then one ping on a half-closed connection, and
	# SIGTERM as soon as its reply came: brummd is then still finishing its
	# start-up, which is the window where TSan lost signals sent to a handler
	# (a miss in about 200 cycles before daemon/signals.c).
	n=0
	until [ -S "$d/s" ]; do
		n=$((n + 1))
		if [ "$n" -gt 500 ]; then
			echo "cycle $i: no socket after 5 s"; cat "$d/log"; exit 1
		fi
		sleep 0.01
	done
	printf '{"jsonrpc":"2.0","id":7,"method":"ping"}' |
		socat -t5 - "UNIX-CONNECT:$d/s" >/dev/null 2>&1
	kill -TERM "$pid"
	n=0
	while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 500 ]; do
		# a zombie still answers kill -0: wait reaps it below
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
		n=$((n + 1))
		sleep 0.01
	done
	if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] && kill -0 "$pid" 2>/dev/null; then
		echo "cycle $i: brummd $pid still runs 5 s after SIGTERM"
		for t in /proc/$pid/task/*; do
			echo "  thread ${t##*/}: $(grep -E '^(SigPnd|ShdPnd|SigBlk)' "$t/status" | tr '\n\t' '  ')"
		done
		cat "$d/log"
		kill -KILL "$pid"
		exit 1
	fi
	wait "$pid"
	st=$?
	if [ "$st" -ne 0 ]; then
		echo "cycle $i: brummd exited $st"; cat "$d/log"; exit 1
	fi
	rm -rf "$d"
done
echo "signal-cycles: $cycles cycles, every brummd exited 0 on SIGTERM"
