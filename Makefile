# shmkit: plain make, gcc or clang, nothing else needed.
#   make                 library (static and shared) and the shmkit command
#   make check           build and run every test
#   make check SANITIZE=1   the same under ASan + UBSan
#   make check SANITIZE=thread   the same under ThreadSanitizer
#   make check VALGRIND=1   the same under valgrind
#   make stress          the crash, stream, scribble and thread tests, 10x longer
#   make bench           the full benchmark; results kept in bench/results/
#   make bench-bridge    the NATS bridge against the NATS client alone
#   make soak DURATION=600  a checked stream for that many seconds
#   make model           check the channel and topic protocols' spin models (needs spin)
#   make fuzz            libFuzzer on channel, topic and inbox state and the parsers, 60 s each
#   make install         PREFIX=/usr/local DESTDIR= : header, libraries,
#                        shmkit.pc, the command, man pages, bash completion
#   make uninstall       removes exactly what install put there
#   make CC=clang        build with clang (kept apart in build/clang)
#   shmkit-bridge        built by make too where libnats is (pkg-config
#                        libnats; Debian: apt-get install libnats-dev)
#   make CC=aarch64-linux-gnu-gcc   build for aarch64 (in build/aarch64-linux-gnu-gcc)
#   make check-aarch64   that build, then every test run here under qemu-user
#                        (long streams scaled down; README: aarch64)
#   make check CC=... EMU=...   the same for another cross compiler and emulator
#   V=1                  show full commands

# The version lives in VERSION; include/shmkit.h repeats it in
# SHMKIT_VERSION_MAJOR/MINOR/PATCH, and tests/version.c fails if they differ.
VERSION := $(shell cat VERSION)
MAJOR   := $(word 1,$(subst ., ,$(VERSION)))

CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
BASE    := $(WARN) -D_DEFAULT_SOURCE -Iinclude -fPIC -fvisibility=hidden
SAN     :=
ifeq ($(SANITIZE),1)
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
ifeq ($(SANITIZE),thread)
SAN     := -fsanitize=thread -fno-omit-frame-pointer
endif

# Each compiler and sanitizer setting builds into its own directory, so
# switching between them never mixes objects.
CONFIG  := $(notdir $(firstword $(CC)))$(if $(SAN),-$(if $(filter thread,$(SANITIZE)),tsan,san))
B       := $(if $(filter cc,$(CONFIG)),build,build/$(CONFIG))

ifneq ($(V),1)
Q = @
msg = printf '  %-6s %s\n' $(1) $(2);
endif

LIB_SRC  := $(wildcard src/*.c)
CLI_SRC  := $(wildcard cli/*.c)
# The benchmark lives in bench/ (results go to bench/results/, ignored by
# git); its objects link into the shmkit command, which runs it as 'bench'.
BENCH_SRC := $(wildcard bench/*.c)
# Shared by the test programs, not tests themselves.
TEST_LIB := tests/harness.c tests/corrupt_cases.c tests/streams.c
TEST_SRC := $(filter-out $(TEST_LIB),$(wildcard tests/*.c))
EX_SRC   := $(wildcard examples/*/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/%.o)
BENCH_OBJ := $(BENCH_SRC:%.c=$(B)/%.o)
TESTS    := $(TEST_SRC:%.c=$(B)/%)
EXAMPLES := $(patsubst examples/%.c,$(B)/examples/%,$(foreach f,$(EX_SRC),examples/$(notdir $(f))))

SONAME   := libshmkit.so.$(MAJOR)
STATIC   := $(B)/libshmkit.a
SHARED   := $(B)/libshmkit.so.$(VERSION)
BIN      := $(B)/shmkit

# shmkit-bridge (bridge/): channels carried over NATS, a program of its
# own so that neither the library nor the command needs libnats. Built
# only where pkg-config finds libnats, for this machine (not for a cross
# compiler, whose libnats pkg-config would not know); without it make
# builds the rest and says so.
NATS_OK  := $(if $(findstring linux-gnu-,$(CC)),,$(shell pkg-config --exists libnats 2>/dev/null && echo 1))
BRIDGE_SRC := $(wildcard bridge/*.c)
BRIDGE_OBJ := $(BRIDGE_SRC:%.c=$(B)/%.o)
# the command's helpers it shares: messages, parsers, escaping, channels
BRIDGE_CLI := $(B)/cli/util.o $(B)/cli/text.o $(B)/cli/fmt.o $(B)/cli/trust.o $(B)/cli/stream.o \
	      $(B)/cli/topic_side.o $(B)/cli/machine.o
BRIDGE   := $(if $(NATS_OK),$(B)/shmkit-bridge)

all: $(STATIC) $(SHARED) $(BIN) $(EXAMPLES) $(B)/demo/stream $(B)/soak/soak $(if $(NATS_OK),$(BRIDGE),bridge-note)

bridge-note:
	@echo "  (shmkit-bridge left out: no libnats for pkg-config; apt-get install libnats-dev nats-server)"

$(BRIDGE_OBJ): BASE += -Icli $(shell pkg-config --cflags libnats 2>/dev/null)

$(B)/shmkit-bridge: $(BRIDGE_OBJ) $(BRIDGE_CLI) $(STATIC)
	$(Q)$(call msg,LD,$@)$(CC) $(SAN) -o $@ $(BRIDGE_OBJ) $(BRIDGE_CLI) $(STATIC) \
		$(shell pkg-config --libs libnats 2>/dev/null) -lpthread

# common/ holds what the benchmark, the tests, the demo and the soak share
# without the library: the payload scheme (common/payload.h).
COMMON_H := $(wildcard common/*.h)

$(B)/%.o: %.c $(wildcard include/*.h src/*.h cli/*.h bench/*.h bridge/*.h tests/*.h) $(COMMON_H) Makefile
	@mkdir -p $(dir $@)
	$(Q)$(call msg,CC,$<)$(CC) $(BASE) $(SAN) $(CFLAGS) -Isrc -Icommon -c $< -o $@

$(STATIC): $(LIB_OBJ)
	$(Q)$(call msg,AR,$@)rm -f $@ && $(AR) rcs $@ $^

$(SHARED): $(LIB_OBJ) src/shmkit.map
	$(Q)$(call msg,LD,$@)$(CC) -shared $(SAN) -Wl,-soname,$(SONAME) \
		-Wl,--version-script=src/shmkit.map -Wl,--no-undefined \
		-o $@ $(LIB_OBJ) $(if $(SAN),,-lc)
	$(Q)ln -sf libshmkit.so.$(VERSION) $(B)/$(SONAME)
	$(Q)ln -sf $(SONAME) $(B)/libshmkit.so

$(BIN): $(CLI_OBJ) $(BENCH_OBJ) $(STATIC)
	$(Q)$(call msg,LD,$@)$(CC) $(SAN) -o $@ $(CLI_OBJ) $(BENCH_OBJ) $(STATIC)

# The benchmark uses the command's shared helpers (cli/cli.h).
$(BENCH_OBJ): BASE += -Icli

$(B)/tests/%: $(B)/tests/%.o $(B)/tests/harness.o $(STATIC)
	$(Q)$(call msg,LD,$@)$(CC) $(SAN) -o $@ $(filter %.o,$^) $(STATIC) -lpthread

# Includes the command's and the benchmark's sources to pin their text.
$(B)/tests/text_forms.o: BASE += -Icli
$(B)/tests/text_forms.o: cli/fmt.c cli/text.c cli/util.c $(wildcard bench/svg*.c)

# Streams that the tests of shmkit top watch (tests/streams.h).
$(B)/tests/cli_top $(B)/tests/cli_top_tty: $(B)/tests/streams.o

# The crafted channel corruptions, in one table (tests/corrupt_cases.h).
$(B)/tests/chan_scribble: $(B)/tests/corrupt_cases.o

# Examples use only the public header and link like an outside program.
$(B)/examples/%: examples/*/%.c include/shmkit.h $(STATIC)
	@mkdir -p $(dir $@)
	$(Q)$(call msg,CC,$<)$(CC) $(WARN) $(SAN) $(CFLAGS) -Iinclude -o $@ $< $(STATIC)

tests: $(TESTS)

# The corpus replay compiles the fuzz targets and the command's parsers in.
$(B)/tests/fuzz_replay.o: fuzz/chan_fuzz.c fuzz/topic_fuzz.c fuzz/inbox_fuzz.c fuzz/parse_fuzz.c \
	fuzz/fuzz.h cli/util.c cli/text.c cli/fmt.c

$(B)/demo/%: demo/%.c include/shmkit.h $(COMMON_H) $(STATIC)
	@mkdir -p $(dir $@)
	$(Q)$(call msg,CC,$<)$(CC) $(WARN) $(SAN) $(CFLAGS) -Iinclude -Icommon -o $@ $< $(STATIC)

$(B)/soak/%: soak/%.c include/shmkit.h $(COMMON_H) $(STATIC)
	@mkdir -p $(dir $@)
	$(Q)$(call msg,CC,$<)$(CC) $(WARN) $(SAN) $(CFLAGS) -Iinclude -Icommon -o $@ $< $(STATIC)

# A long stream with random sizes, both APIs, every byte checked; fails on
# any error or if either side's resident memory grows. DURATION in seconds.
DURATION ?= 60
soak: all
	@$(B)/soak/soak $(DURATION)

# The streaming demo (1 GiB through a channel and a pipe), then a tour of
# the segment tools.
demo: all
	@$(B)/demo/stream $(BIN) 1
	@echo
	@demo/segments.sh $(B)

# A build for another machine (CC=aarch64-linux-gnu-gcc) runs here under
# an emulator: EMU is the command put before each test and each program a
# test starts, e.g. EMU="qemu-aarch64 -L /usr/aarch64-linux-gnu" (what
# make check-aarch64 sets).
EMU ?=

# Under valgrind, ThreadSanitizer and an emulator the long streams run
# scaled down (tests read SHMKIT_TEST_SCALE); the runner prints the factor.
SCALE := $(if $(filter 1,$(VALGRIND)),0.002,$(if $(filter thread,$(SANITIZE)),0.1,$(if $(EMU),0.1,1)))

# The compilers the header and install tests build outside programs with:
# the host's, or under EMU the cross compiler and its C++ twin.
TEST_CC  ?= $(if $(EMU),$(CC),cc)
TEST_CXX ?= $(if $(EMU),$(patsubst %gcc,%g++,$(CC)),c++)

# Under EMU the tests find the command in $(B)/emu/, and beside it what
# they look for beside the command: there each program is a script that
# runs the real one under EMU (tests start them by path, from C and from
# shell snippets alike), each library a link. A script finds its program
# from its own path, as the test named it (relative to the tree): tests
# that drop to another user must not need a way through the directories
# above the tree, which a private temporary directory closes.
EMU_DIR   := $(B)/emu
EMU_PROGS := $(patsubst $(B)/%,%,$(BIN) $(EXAMPLES) $(B)/demo/stream $(B)/soak/soak)

emu-dir: all
	$(Q)rm -rf $(EMU_DIR)
	$(Q)for p in $(EMU_PROGS); do mkdir -p $$(dirname $(EMU_DIR)/$$p) && \
		printf '#!/bin/sh\nexec %s "$${0%%/emu/*}/%s" "$$@"\n' '$(EMU)' $$p \
			>$(EMU_DIR)/$$p && chmod +x $(EMU_DIR)/$$p || exit 1; done
	$(Q)for l in libshmkit.a libshmkit.so $(SONAME) libshmkit.so.$(VERSION); do \
		ln -s ../$$l $(EMU_DIR)/$$l || exit 1; done

# The install test stages this very build: it gets the settings, and the
# flags an outside program needs to link a sanitized library.
check: all tests $(if $(EMU),emu-dir)
	@SHMKIT=$(if $(EMU),$(EMU_DIR)/shmkit,$(BIN)) VALGRIND=$(VALGRIND) EMU="$(EMU)" \
		SHMKIT_TEST_SCALE=$(SCALE) SHMKIT_CC="$(TEST_CC)" SHMKIT_CXX="$(TEST_CXX)" \
		SHMKIT_MAKE_ARGS="CC=$(CC) SANITIZE=$(SANITIZE)" SHMKIT_SAN="$(SAN)" \
		tests/run.sh $(TESTS)

# Every test of an aarch64 build, run here under qemu-user. It catches
# what differs by architecture (system call numbers and argument layouts,
# the pause instruction, struct layouts, atomics' alignment), not weak
# memory ordering: qemu on x86 orders memory as x86 does, and ordering is
# the spin model's part (make model). Needs gcc-aarch64-linux-gnu,
# qemu-user, and for the header test g++-aarch64-linux-gnu.
AARCH64_CC  ?= aarch64-linux-gnu-gcc
AARCH64_EMU ?= qemu-aarch64 -L /usr/aarch64-linux-gnu
check-aarch64:
	@for t in $(firstword $(AARCH64_CC)) $(firstword $(AARCH64_EMU)); do \
		command -v $$t >/dev/null || { echo "check-aarch64: no $$t" \
		"(apt-get install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user)" >&2; \
		exit 2; }; done
	@$(MAKE) --no-print-directory check CC="$(AARCH64_CC)" EMU="$(AARCH64_EMU)"

# Long runs, outside make check: 10x the crash trials (1,000 SIGKILLs per
# side of a channel, 1,000 in an inbox), the streams and the scribbler;
# the bridge's streams (1 GiB, 1M messages), topics, and 30 kills of each of its
# parts (skipped without shmkit-bridge and nats-server).
STRESS := $(B)/tests/chan_crash $(B)/tests/chan_stream $(B)/tests/chan_scribble $(B)/tests/chan_threads \
	  $(B)/tests/topic_crash $(B)/tests/topic_basic $(B)/tests/topic_stream $(B)/tests/topic_threads \
	  $(B)/tests/inbox $(B)/tests/inbox_threads $(B)/tests/service $(B)/tests/waitset \
	  $(B)/tests/inbox_crash $(B)/tests/inbox_scribble \
	  $(B)/tests/bridge_stream $(B)/tests/bridge_faults $(B)/tests/bridge_js_faults $(B)/tests/chan_ahead \
	  $(B)/tests/bridge_topic

stress: all tests
	@SHMKIT=$(BIN) SHMKIT_TEST_SCALE=10 TEST_TIMEOUT=3600 tests/run.sh $(STRESS)

# The bridge against publishing straight with the NATS client (about 30
# seconds; needs shmkit-bridge and nats-server).
bench-bridge: all
	@if [ -x "$(B)/shmkit-bridge" ]; then $(B)/shmkit-bridge bench $(BENCH_ARGS); \
	else echo "shmkit-bridge was not built (apt-get install libnats-dev nats-server)"; exit 1; fi

# The full benchmark (under a minute): the table on screen, and the table,
# JSON and plot under bench/results/ (ignored by git), newest as latest.*.
# BENCH_ARGS adds options, e.g. BENCH_ARGS=--quick.
bench: all
	@mkdir -p bench/results
	@stamp=bench/results/bench-$$(date +%Y%m%d-%H%M%S); \
	$(BIN) bench --save $$stamp $(BENCH_ARGS) && \
	for e in txt json svg; do cp $$stamp.$$e bench/results/latest.$$e; done && \
	echo "saved $$stamp.txt, .json and .svg (also bench/results/latest.*)"

# The spin models of the channel protocol: every interleaving of a small
# ring, with crashes, and of a side changing hands, on x86-TSO and on
# C11 / Armv8 ordering (model/README.md). MODEL_ARGS=--full for the
# longer set.
model:
	@model/check.sh $(MODEL_ARGS)

# libFuzzer on channels', topics' and inboxes' shared state and on every
# parser, from the seeds in fuzz/corpus/ (make check replays those without
# libFuzzer).
# FUZZ_SECONDS per target (default 60); FUZZ_MERGE=1 keeps what adds
# coverage; see fuzz/run.sh. Needs clang's libFuzzer (libclang-rt-14-dev).
FUZZ_TARGETS ?= chan topic inbox parse
fuzz:
	@fuzz/run.sh $(FUZZ_TARGETS)

# ------------------------------------------------------------ install

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PCDIR      ?= $(LIBDIR)/pkgconfig
COMPDIR    ?= $(PREFIX)/share/bash-completion/completions
D          := $(DESTDIR)

MAN_PAGES := $(filter-out $(if $(BRIDGE),,man/man1/shmkit-bridge.1), \
	$(wildcard man/man1/*.1 man/man3/*.3 man/man7/*.7))

$(B)/shmkit.pc: shmkit.pc.in VERSION Makefile
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

# Every file install writes, so that uninstall removes exactly those.
INSTALLED := $(D)$(INCLUDEDIR)/shmkit.h $(D)$(LIBDIR)/libshmkit.a \
	$(D)$(LIBDIR)/libshmkit.so.$(VERSION) $(D)$(LIBDIR)/$(SONAME) \
	$(D)$(LIBDIR)/libshmkit.so $(D)$(PCDIR)/shmkit.pc $(D)$(BINDIR)/shmkit \
	$(D)$(COMPDIR)/shmkit $(MAN_PAGES:man/%=$(D)$(MANDIR)/%) \
	$(if $(BRIDGE),$(D)$(BINDIR)/shmkit-bridge $(D)$(COMPDIR)/shmkit-bridge)

install: all $(B)/shmkit.pc
	install -d $(D)$(INCLUDEDIR) $(D)$(LIBDIR) $(D)$(PCDIR) $(D)$(BINDIR) $(D)$(COMPDIR)
	install -m 644 include/shmkit.h $(D)$(INCLUDEDIR)/shmkit.h
	install -m 644 $(STATIC) $(D)$(LIBDIR)/libshmkit.a
	install -m 755 $(SHARED) $(D)$(LIBDIR)/libshmkit.so.$(VERSION)
	ln -sf libshmkit.so.$(VERSION) $(D)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(D)$(LIBDIR)/libshmkit.so
	install -m 644 $(B)/shmkit.pc $(D)$(PCDIR)/shmkit.pc
	install -m 755 $(BIN) $(D)$(BINDIR)/shmkit
	$(if $(BRIDGE),install -m 755 $(BRIDGE) $(D)$(BINDIR)/shmkit-bridge)
	install -m 644 completions/shmkit.bash $(D)$(COMPDIR)/shmkit
	$(if $(BRIDGE),install -m 644 completions/shmkit.bash $(D)$(COMPDIR)/shmkit-bridge)
	$(if $(MAN_PAGES),for p in $(MAN_PAGES); do \
		install -D -m 644 $$p $(D)$(MANDIR)/$${p#man/}; done)

uninstall:
	rm -f $(INSTALLED)

clean:
	rm -rf build

.PHONY: all tests check check-aarch64 emu-dir clean demo stress bench bench-bridge soak model fuzz \
	install uninstall bridge-note
.SECONDARY:
