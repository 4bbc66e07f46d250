# brummd — one non-recursive GNU Makefile.
#
#   make                 build bin/brummd and bin/brummctl
#   make check           build and run every Check suite (tests/test_*.c), then
#                        every example of README.md and man/ (make examples)
#   make examples        check the examples of README.md and man/ alone
#   make run             start brummd in the foreground on its embedded default,
#                        with its socket and state in ./run (RUNDIR)
#   make install         PREFIX=/usr/local DESTDIR= (binaries, units, config, man pages,
#                        shell completions)
#   make installcheck    install into a scratch DESTDIR and check what landed
#   make deps            install missing build dependencies (apt-get); the
#                        only target that does: the others stop and say so
#   SAN=address,undefined / SAN=thread   sanitizer builds (own object dirs)
#   make fuzz            libFuzzer targets in fuzz/ (clang), FUZZ_TIME seconds each
#   make lint            layout rules (scripts/check-layout.py), cppcheck and
#                        gcc -fanalyzer; fails on any finding
#   make stress          long start/SIGTERM cycles (STRESS_CYCLES, SAN= works)
#   make mutate          run the suites against each mutation of tests/mutations.txt
#   DEVELOPER=1          adds -Werror and BRM_DEVELOPER (daemon/sup/loopcheck.h)

# Short lines while building (git's style); V=1 shows every command.
ifneq ($(V),1)
QUIET_CC   = @echo '   ' CC $@;
QUIET_LINK = @echo '   ' LINK $@;
QUIET_AR   = @echo '   ' AR $@;
endif

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
# Where Debian's bash-completion, zsh and fish packages look.
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(DATADIR)/zsh/vendor-completions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
SYSCONFDIR ?= /etc
UNITDIR ?= /etc/systemd/system
DESTDIR ?=

CC      ?= cc
# libmicrohttpd serves metrics_listen (daemon/rpc/httpm.c).
PKGS     = libuv libcjson liburcu-memb liburcu-cds libpcre2-8 libmicrohttpd
TESTPKGS = check
# brummctl top only (cli/top*.c), linked statically into brummctl (below).
CLIPKGS  = ncursesw

# The libraries are checked here, never installed: installing is `make deps`
# (scripts/deps.sh, apt-get), run once by hand, by .ci/run and by the
# README's first commands. A plain `make` must not call apt.
ifeq ($(filter clean deps,$(MAKECMDGOALS)),)
ifeq ($(shell command -v pkg-config),)
$(error pkg-config is missing: run 'make deps' (or 'sh scripts/deps.sh') to install the build dependencies)
endif
MISSING_PKGS := $(shell for p in $(PKGS) $(CLIPKGS) $(TESTPKGS); do \
                  pkg-config --exists $$p 2>/dev/null || echo $$p; done)
ifneq ($(MISSING_PKGS),)
$(error missing build dependencies (pkg-config): $(MISSING_PKGS); run 'make deps' (or 'sh scripts/deps.sh') to install them)
endif
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
CHK_CFLAGS := $(shell pkg-config --cflags $(TESTPKGS) 2>/dev/null)
# brummctl links only what it uses, PCRE2 statically (performance issue 13:
# `brummctl status NAME` near /bin/true). A dynamic libpcre2-8 would be
# mapped and relocated on every run, though only --grep patterns use it;
# the CLI has no libm call (cli_ts_ms() is its llround), and --as-needed
# keeps libm out unless a build (-O0: floor() not inlined) calls it.
# ncursesw and its tinfo are static for the same reason: only `brummctl
# top` draws with them, and every other command would map and relocate two
# more libraries at start (Debian's libncurses-dev ships the .a files; the
# terminfo database is still read at run time, from Debian's paths).
# tests/test_cli.c's usage_loads_no_pcre2 checks what the loader maps.
CURSES_CFLAGS := $(shell pkg-config --cflags $(CLIPKGS) 2>/dev/null)
CURSES_LIBS   := $(shell pkg-config --libs-only-L $(CLIPKGS) 2>/dev/null) -lncursesw -ltinfo
CLI_LIBS   := $(shell pkg-config --libs libcjson 2>/dev/null) \
              -Wl,-Bstatic -lpcre2-8 $(CURSES_LIBS) -Wl,-Bdynamic \
              -Wl,--as-needed -lm -Wl,--no-as-needed
CHK_LIBS   := $(shell pkg-config --libs $(TESTPKGS) 2>/dev/null)

OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN     = -Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wvla
# DEVELOPER=1 also turns on the checks of developer builds (BRM_ASSERT_LOOP).
ifeq ($(DEVELOPER),1)
WARN    += -Werror
DEVFLAGS = -DBRM_DEVELOPER
endif
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -I. $(DEVFLAGS) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -pthread -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) -pthread

ifneq ($(SAN),)
# -fsanitize=undefined leaves out float-cast-overflow: a number taken from a
# request and cast out of range (since_seq: 1e300) must be caught too.
SAN_ALL = $(SAN)$(if $(findstring undefined,$(SAN)),$(comma)float-cast-overflow)
ALL_CFLAGS  += -fsanitize=$(SAN_ALL) -fno-omit-frame-pointer
ALL_LDFLAGS += -fsanitize=$(SAN_ALL)
OBJDIR ?= obj-$(subst $(comma),-,$(SAN))
BINOUT ?= bin-$(subst $(comma),-,$(SAN))
else
OBJDIR ?= obj
BINOUT ?= bin
endif
comma := ,

LIB_SRC    := $(wildcard lib/*.c proto/*.c)
DAEMON_SRC := $(filter-out daemon/main.c,$(wildcard daemon/*.c daemon/*/*.c))
CLI_SRC    := $(wildcard cli/*.c)
TEST_SRC   := $(wildcard tests/test_*.c)
# tests/alloccount.c defines malloc: only the two programs that count
# allocations link it (ALLOCCOUNT_OBJ, below), never every test.
TESTLIB_SRC:= $(filter-out $(TEST_SRC) tests/testchild.c tests/alloccount.c,$(wildcard tests/*.c))

LIB_OBJ    := $(LIB_SRC:%.c=$(OBJDIR)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(OBJDIR)/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(OBJDIR)/%.o)
TESTLIB_OBJ:= $(TESTLIB_SRC:%.c=$(OBJDIR)/%.o)
ALLOCCOUNT_OBJ := $(OBJDIR)/tests/alloccount.o
TEST_BIN   := $(TEST_SRC:tests/%.c=$(BINOUT)/%)
STRESS_SRC := $(wildcard tests/stress/*.c)
STRESS_BIN := $(STRESS_SRC:tests/stress/%.c=$(BINOUT)/%)
.SECONDARY: $(STRESS_SRC:%.c=$(OBJDIR)/%.o)

LIBBRM     := $(OBJDIR)/libbrm.a
LIBDAEMON  := $(OBJDIR)/libbrmd.a

PROGRAMS   := $(BINOUT)/brummd $(BINOUT)/brummctl $(BINOUT)/brm-testchild

.PHONY: all check examples run install installcheck uninstall clean deps lint stress bench bench-quick
all: $(BINOUT)/brummd $(BINOUT)/brummctl

# The flags an object dir was built with (git's GIT-CFLAGS): the file is
# rewritten only when they change, and every object depends on it, so
# `make` after `make DEVELOPER=1` (or another CFLAGS, CC) rebuilds. Taken
# here, at the top level, so the test child's own flags do not count.
TRACK_FLAGS := $(subst ','\'',$(CC) $(ALL_CFLAGS) $(CHK_CFLAGS) $(ALL_LDFLAGS))
$(OBJDIR)/.cflags: FORCE
	@mkdir -p $(dir $@)
	@flags='$(TRACK_FLAGS)'; \
	if [ x"$$flags" != x"$$(cat $@ 2>/dev/null)" ]; then \
	    echo '   ' new build flags in $(OBJDIR); printf "%s\n" "$$flags" >$@; fi
.PHONY: FORCE

$(OBJDIR)/%.o: %.c $(OBJDIR)/.cflags
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Only top's files see the curses headers' flags.
$(OBJDIR)/cli/top.o $(OBJDIR)/cli/topdraw.o: ALL_CFLAGS += $(CURSES_CFLAGS)

$(OBJDIR)/tests/%.o: tests/%.c $(OBJDIR)/.cflags
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) $(CHK_CFLAGS) -c -o $@ $<

$(LIBBRM): $(LIB_OBJ)
	@rm -f $@
	$(QUIET_AR)$(AR) rcs $@ $^

$(LIBDAEMON): $(DAEMON_OBJ)
	@rm -f $@
	$(QUIET_AR)$(AR) rcs $@ $^

$(BINOUT)/brummd: $(OBJDIR)/daemon/main.o $(LIBDAEMON) $(LIBBRM)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BINOUT)/brummctl: $(CLI_OBJ) $(LIBBRM)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CLI_LIBS)

# The test child stands in for a supervised program, not for brummd: it has
# one thread, and TSan's shadow memory would add ~2x to the RSS that
# tests/test_stats.c checks brummd reports. Other sanitizers stay on.
$(OBJDIR)/tests/testchild.o: ALL_CFLAGS := $(filter-out -fsanitize=thread,$(ALL_CFLAGS))
$(BINOUT)/brm-testchild: ALL_LDFLAGS := $(filter-out -fsanitize=thread,$(ALL_LDFLAGS))
$(BINOUT)/brm-testchild: $(OBJDIR)/tests/testchild.o
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

$(BINOUT)/test_%: $(OBJDIR)/tests/test_%.o $(TESTLIB_OBJ) $(LIBDAEMON) $(LIBBRM)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHK_LIBS)

# test_top checks top's model (rows, events, view) beside the screen.
$(BINOUT)/test_top: $(OBJDIR)/cli/topmodel.o

# The read path's "allocates nothing" test and benchmark count with it.
$(BINOUT)/test_registry $(BINOUT)/bench_regbench: $(ALLOCCOUNT_OBJ)

$(BINOUT)/stress_%: $(OBJDIR)/tests/stress/stress_%.o $(TESTLIB_OBJ) $(LIBDAEMON) $(LIBBRM)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHK_LIBS)

# Each suite finds the programs it runs through BRM_BINDIR. Sanitizer runs
# stop at the first report (SAN_ENV), brummd under test included.
SAN_ENV = UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
          ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
          TSAN_OPTIONS="halt_on_error=1 die_after_fork=0 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp"
# A test that cannot run here (not root, a tool missing) prints a line
# "SKIP: test: why"; they are counted, so a pass never hides them.
check: $(PROGRAMS) $(TEST_BIN)
	@fail=0; failed=; skips=0; out=$$(mktemp); for t in $(TEST_BIN); do \
	    echo "== $$t"; \
	    $(if $(SAN),$(SAN_ENV)) BRM_BINDIR=$(CURDIR)/$(BINOUT) $$t >$$out 2>&1 || { fail=1; failed="$$failed $$t"; }; \
	    cat $$out; skips=$$((skips + $$(grep -c '^SKIP:' $$out))); \
	    grep -E '^[^ ]+:[0-9]+:[EF]:' $$out >>$$out.failures || true; \
	done; \
	echo "== scripts/check-examples.py"; \
	$(if $(SAN),$(SAN_ENV)) SAN=$(SAN) BINOUT=$(BINOUT) DEVELOPER=$(DEVELOPER) python3 scripts/check-examples.py || { fail=1; failed="$$failed check-examples"; }; \
	if [ $$skips -ne 0 ]; then echo "make check: $$skips test(s) SKIPPED (see the SKIP: lines)"; fi; \
	if [ $$fail -ne 0 ]; then cat $$out.failures; rm -f $$out $$out.failures; \
	    echo "make check: FAILED:$$failed"; exit 1; fi; \
	rm -f $$out $$out.failures; \
	echo "make check: all suites passed"

# Every example of README.md and man/ (how: scripts/check-examples.py);
# make check runs it too.
examples: $(PROGRAMS)
	$(if $(SAN),$(SAN_ENV)) SAN=$(SAN) BINOUT=$(BINOUT) DEVELOPER=$(DEVELOPER) python3 scripts/check-examples.py

# The development run never touches an installed brummd's /run/brummd and
# /var/lib/brummd, also as root: its socket and state are under RUNDIR
# (0700), passed explicitly (--socket beats $$BRUMMD_SOCKET and a config's
# "socket"; $$BRUMMD_STATE_DIR beats its "state_dir"). RUNFLAGS adds options,
# e.g. RUNFLAGS='-c etc/brummd.json --log-level debug'.
RUNDIR ?= $(CURDIR)/run
run: $(BINOUT)/brummd $(BINOUT)/brummctl
	@mkdir -p -m 0700 $(RUNDIR) $(RUNDIR)/state
	@echo "make run: socket $(RUNDIR)/brummd.sock, state in $(RUNDIR)/state"
	@echo "make run: in another shell: export BRUMMD_SOCKET=$(RUNDIR)/brummd.sock; $(CURDIR)/$(BINOUT)/brummctl status"
	BRUMMD_STATE_DIR=$(RUNDIR)/state ./$(BINOUT)/brummd --foreground \
	    --socket $(RUNDIR)/brummd.sock $(RUNFLAGS)

# The units name /usr/local/sbin/brummd; installing elsewhere rewrites it.
# The completion scripts come from the built brummctl itself
# (`brummctl completion SHELL`), so they match its commands and options.
# An existing /etc/brummd/brummd.json is never overwritten.
install: $(BINOUT)/brummd $(BINOUT)/brummctl
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(BINOUT)/brummd $(DESTDIR)$(SBINDIR)/brummd
	install -m 0755 $(BINOUT)/brummctl $(DESTDIR)$(BINDIR)/brummctl
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/brummd
	sed 's|/usr/local/sbin/brummd|$(SBINDIR)/brummd|; s|/etc/brummd/|$(SYSCONFDIR)/brummd/|' \
	    systemd/brummd.service > $(DESTDIR)$(UNITDIR)/brummd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/brummd.service
	install -m 0644 systemd/brummd.socket $(DESTDIR)$(UNITDIR)/brummd.socket
	[ -e $(DESTDIR)$(SYSCONFDIR)/brummd/brummd.json ] || \
	    install -m 0644 etc/brummd.json $(DESTDIR)$(SYSCONFDIR)/brummd/brummd.json
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 man/brummctl.1 $(DESTDIR)$(MANDIR)/man1/brummctl.1
	install -m 0644 man/brummd.json.5 $(DESTDIR)$(MANDIR)/man5/brummd.json.5
	install -m 0644 man/brummd.8 $(DESTDIR)$(MANDIR)/man8/brummd.8
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	$(BINOUT)/brummctl completion bash > $(DESTDIR)$(BASHCOMPDIR)/brummctl
	$(BINOUT)/brummctl completion zsh > $(DESTDIR)$(ZSHCOMPDIR)/_brummctl
	$(BINOUT)/brummctl completion fish > $(DESTDIR)$(FISHCOMPDIR)/brummctl.fish
	chmod 0644 $(DESTDIR)$(BASHCOMPDIR)/brummctl $(DESTDIR)$(ZSHCOMPDIR)/_brummctl \
	    $(DESTDIR)$(FISHCOMPDIR)/brummctl.fish

# Install into a scratch DESTDIR and check what landed (CI runs it).
installcheck: $(BINOUT)/brummd $(BINOUT)/brummctl
	sh tests/install/check-install.sh

# Leaves the config and the state (/var/lib/brummd) in place.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/brummd $(DESTDIR)$(BINDIR)/brummctl
	rm -f $(DESTDIR)$(UNITDIR)/brummd.service $(DESTDIR)$(UNITDIR)/brummd.socket
	rm -f $(DESTDIR)$(MANDIR)/man1/brummctl.1 $(DESTDIR)$(MANDIR)/man5/brummd.json.5 \
	    $(DESTDIR)$(MANDIR)/man8/brummd.8
	rm -f $(DESTDIR)$(BASHCOMPDIR)/brummctl $(DESTDIR)$(ZSHCOMPDIR)/_brummctl \
	    $(DESTDIR)$(FISHCOMPDIR)/brummctl.fish

deps:
	sh scripts/deps.sh

# Long runs kept out of make check: STRESS_SPAWNS (10,000) spawn/exit cycles
# (tests/stress/stress_cycles.c), then STRESS_CYCLES start/ping/SIGTERM
# cycles of brummd (tests/stress/signal-cycles.sh).
STRESS_CYCLES ?= 500
stress: $(PROGRAMS) $(STRESS_BIN)
	@for t in $(STRESS_BIN); do \
	    echo "== $$t"; \
	    $(if $(SAN),$(SAN_ENV)) BRM_BINDIR=$(CURDIR)/$(BINOUT) $$t || exit 1; \
	done
	$(if $(SAN),$(SAN_ENV)) sh tests/stress/signal-cycles.sh $(CURDIR)/$(BINOUT) $(STRESS_CYCLES)

# Not in CI (15-25 minutes): run before resolving an issue that touches
# the areas the list covers. MUTATE_ONLY=id,id runs a subset; the script's
# header lists the other knobs. Builds in a scratch copy under /tmp.
.PHONY: mutate
mutate:
	python3 scripts/mutate.py

# ---- static analysis: layout rules, cppcheck, GCC's -fanalyzer; any finding fails ----
# scripts/check-layout.py (its top says the rules: no include cycle, rpc/
# includes of sup/ only cmd.h, no file over 700 lines without "Long
# because:") first proves on fake trees that each rule catches what it
# should, then checks this tree against scripts/layout-allow.txt.
# cppcheck does not read system headers: scripts/cppcheck-defs.h gives it the
# libraries' iteration macros. The analyzer builds into its own directories
# with -Werror; its two known false positives are silenced in place
# (lib/client.c, lib/util.c), each with the reason.
LINT_SRC := lib daemon cli proto
lint:
	python3 scripts/check-layout.py --self-test
	python3 scripts/check-layout.py
	python3 scripts/map.py --check
	@command -v cppcheck >/dev/null 2>&1 || { \
	    echo "make lint: cppcheck is missing; install it with: apt-get install -y cppcheck" >&2; \
	    exit 1; }
	cppcheck -q --error-exitcode=1 --enable=warning,portability,performance \
	    --inline-suppr --std=c11 -I. -D_GNU_SOURCE -D__GNUC__ \
	    --include=scripts/cppcheck-defs.h $(LINT_SRC)
	$(MAKE) OBJDIR=obj-lint BINOUT=bin-lint DEVELOPER=1 CFLAGS="-O2 -g -fanalyzer" all

clean:
	rm -rf obj obj-* bin bin-* fuzz/corpus

-include $(shell find $(OBJDIR) -name '*.d' 2>/dev/null)

# --- benchmarks (bench/README.md) -------------------------------------------
#   make bench         full run, prints one markdown table, writes bench/RESULTS.md
#   make bench-quick   reduced run (< 2 min)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BINOUT)/bench_%)

$(BINOUT)/bench_%: $(OBJDIR)/bench/%.o $(LIBDAEMON) $(LIBBRM)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# bench/flat.py (issue 13, cost against N, verdict lines): BENCH_BASE=DIR
# measures an older build's bin/ beside this one in the same run.
FLAT_BASE = $(if $(BENCH_BASE),--base $(BENCH_BASE))

bench: $(PROGRAMS) $(BENCH_BIN)
	python3 bench/run.py --bindir $(CURDIR)/$(BINOUT)
	python3 bench/flat.py --bindir $(CURDIR)/$(BINOUT) $(FLAT_BASE) --json bench/results-flat.json

bench-quick: $(PROGRAMS) $(BENCH_BIN)
	python3 bench/run.py --quick --bindir $(CURDIR)/$(BINOUT)
	python3 bench/flat.py --quick --bindir $(CURDIR)/$(BINOUT) $(FLAT_BASE)

# ---- fuzzing: libFuzzer targets in fuzz/, built with clang from Debian ------
#
#   make fuzz                 build, then run each target for FUZZ_TIME seconds
#   make fuzz FUZZ_TIME=600   longer
#   make fuzz FUZZ_TARGETS=pattern FUZZ_FLAGS=-rss_limit_mb=512   one target, extra flags
# Seeds are fuzz/seeds/TARGET (the examples of proto/PROTOCOL.md and README);
# the growing corpus goes to fuzz/corpus/TARGET (not committed), crashes to
# fuzz/crash-*. A crash becomes a regression test, then its file is deleted.
FUZZ_TIME    ?= 30
FUZZ_TARGETS ?= request envelope config pattern
FUZZ_BIN     := bin-fuzz

.PHONY: fuzz fuzz-build fuzz-bins
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p fuzz/corpus/$$t; \
	    echo "== fuzz_$$t for $(FUZZ_TIME) s"; \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    $(FUZZ_BIN)/fuzz_$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 $(FUZZ_FLAGS) \
	        -max_len=65536 -artifact_prefix=fuzz/crash-$$t- \
	        fuzz/corpus/$$t fuzz/seeds/$$t 2>&1 | \
	        grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss|==[0-9]+==|SUMMARY|.*runtime error)' \
	        || true; \
	    if ls fuzz/crash-$$t-* >/dev/null 2>&1; then echo "fuzz_$$t: CRASH, see fuzz/crash-$$t-*"; exit 1; fi; \
	done

fuzz-build:
	@command -v clang >/dev/null 2>&1 || { \
	    echo "make fuzz: clang is missing; install it with: apt-get install -y clang" >&2; \
	    exit 1; }
	$(MAKE) CC=clang SAN=address,undefined OBJDIR=obj-fuzz BINOUT=$(FUZZ_BIN) \
	    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link" fuzz-bins

fuzz-bins: $(FUZZ_TARGETS:%=$(BINOUT)/fuzz_%)

$(BINOUT)/fuzz_%: $(OBJDIR)/fuzz/fuzz_%.o $(LIBDAEMON) $(LIBBRM)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)
