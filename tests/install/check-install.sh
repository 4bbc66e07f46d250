#!/bin/sh
# make installcheck: install into a scratch DESTDIR and check what landed.
#   binaries run, the units name the installed brummd and pass systemd-analyze
#   verify where it exists, the man pages render without warnings, the default
#   config is valid, the shell completions are in place, a second install
#   keeps an edited config, and make uninstall removes what install put.
# Usage: make installcheck (from the top of the tree).
set -u
dest=$(mktemp -d /tmp/brminstall.XXXXXX)
trap 'rm -rf "$dest"' EXIT
fails=0 passes=0
ok()   { passes=$((passes + 1)); echo "ok: $*"; }
bad()  { fails=$((fails + 1)); echo "FAIL: $*"; }
check() { what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }

make -s --no-print-directory install DESTDIR="$dest" PREFIX=/opt/brm \
	>"$dest.log" 2>&1 || { cat "$dest.log"; rm -f "$dest.log"; echo "FAIL: make install"; exit 1; }
rm -f "$dest.log"

sbin=$dest/opt/brm/sbin/brummd ctl=$dest/opt/brm/bin/brummctl
unit=$dest/etc/systemd/system/brummd.service
conf=$dest/etc/brummd/brummd.json
man=$dest/opt/brm/share/man

check "brummd installed executable" test -x "$sbin"
check "brummctl installed executable" test -x "$ctl"
check "brummd --version runs" "$sbin" --version
check "brummctl --version runs" "$ctl" --version
check "the service unit names the installed brummd" grep -q "^ExecStart=/opt/brm/sbin/brummd" "$unit"
check "the socket unit is installed" test -f "$dest/etc/systemd/system/brummd.socket"
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify looks for ExecStart's binary and the Documentation= man pages
	# on the real root: point it at what was installed
	sed "s|/opt/brm/sbin/brummd|$sbin|" "$unit" > "$dest/brummd.service"
	cp "$dest/etc/systemd/system/brummd.socket" "$dest/"
	check "systemd-analyze verify accepts the installed units" \
		sh -c "cd '$dest' && MANPATH='$man' systemd-analyze verify ./brummd.service ./brummd.socket 2>&1 | (! grep -q .)"
else
	echo "SKIP: systemd-analyze is not installed (apt-get install systemd)"
fi
for page in man1/brummctl.1 man5/brummd.json.5 man8/brummd.8; do
	if [ ! -f "$man/$page" ]; then bad "man page $page installed"; continue; fi
	if command -v groff >/dev/null 2>&1; then
		w=$(groff -man -Tutf8 -ww -z "$man/$page" 2>&1)
		if [ -z "$w" ]; then ok "man page $page renders cleanly"; else bad "man page $page: $w"; fi
	else
		echo "SKIP: groff is not installed; $page not rendered"
	fi
done
share=$dest/opt/brm/share
check "bash completion installed" grep -q "complete -F _brummctl brummctl" \
	"$share/bash-completion/completions/brummctl"
check "zsh completion installed" grep -q "^#compdef brummctl" "$share/zsh/vendor-completions/_brummctl"
check "fish completion installed" grep -q "^complete -c brummctl" \
	"$share/fish/vendor_completions.d/brummctl.fish"
check "the bash completion parses" bash -n "$share/bash-completion/completions/brummctl"
check "the default config is valid" "$sbin" --check-config "$conf"
echo '{ "workers": 3 } // edited by the admin' > "$conf"
make -s --no-print-directory install DESTDIR="$dest" PREFIX=/opt/brm >/dev/null 2>&1
check "a second install keeps the edited config" grep -q "edited by the admin" "$conf"
make -s --no-print-directory uninstall DESTDIR="$dest" PREFIX=/opt/brm >/dev/null 2>&1
check "make uninstall removes the bash completion" \
	test ! -e "$share/bash-completion/completions/brummctl"
check "make uninstall removes the zsh and fish completions" \
	sh -c "test ! -e '$share/zsh/vendor-completions/_brummctl' && test ! -e '$share/fish/vendor_completions.d/brummctl.fish'"
echo "installcheck: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
