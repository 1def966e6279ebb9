# seqcast -- one non-recursive Makefile for the whole tree.
#
#   make                 library (build/libseqcast.a, .so) and binaries (build/bin/)
#   make test            install missing Debian packages, build, run every suite
#   make demo            install, build, show the product at work on loopback
#   make install PREFIX=/usr/local
#   make SAN=address,undefined test
#   make fuzz [FUZZ_SECONDS=60]   clang + libFuzzer, every parser
#   make mutate [MUTATE="-j2 ..."]  mutation-test the unit/sim/fuzz-replay suites (docs/TESTING.md)
#   make V=1             show the commands
#
# Layers (DESIGN.md s.2): proto <- engine <- config <- feedhandler, replay, apps.
# proto/ is compiled with only its own headers on the include path
# (include/seqcast/proto/, the public codec API), so it can reach nothing else; tests/check-layers.sh enforces the rest (e.g. engine/ never
# includes <yaml.h> or <pcap.h>).

PREFIX    ?= /usr/local
CC        ?= cc
CLANG     ?= clang
# (before `make deps` has installed it, a missing pkg-config answers nothing, quietly)
ifeq ($(origin PKGCONF),undefined)
PKGCONF   := $(or $(shell command -v pkg-config 2>/dev/null),false)
endif
BUILD     ?= build
OPT       ?= -O2 -g
SAN       ?=
FUZZ_SECONDS ?= 60
VERSION   := 0.1.0

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
        -Wformat=2 -Wundef -Wvla -Wcast-qual -Wwrite-strings -Wno-missing-field-initializers \
        -Werror=implicit-function-declaration -Werror=incompatible-pointer-types
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -pthread $(OPT) $(WARN) -MMD -MP
ifneq ($(SAN),)
BASE_CFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_LDFLAGS := -fsanitize=$(SAN)
endif

YAML_CFLAGS := $(shell $(PKGCONF) --cflags yaml-0.1 2>/dev/null)
YAML_LIBS   := $(shell $(PKGCONF) --libs yaml-0.1 2>/dev/null || echo -lyaml)
PCAP_CFLAGS := $(shell $(PKGCONF) --cflags libpcap 2>/dev/null)
PCAP_LIBS   := $(shell $(PKGCONF) --libs libpcap 2>/dev/null || echo -lpcap)
CRIT_CFLAGS := $(shell $(PKGCONF) --cflags criterion 2>/dev/null)
CRIT_LIBS   := $(shell $(PKGCONF) --libs criterion 2>/dev/null || echo -lcriterion)

ifndef V
Q          = @
QUIET_CC   = @printf '  CC      %s\n' $@;
QUIET_LINK = @printf '  LINK    %s\n' $@;
QUIET_AR   = @printf '  AR      %s\n' $@;
endif

# DPDK: on when libdpdk-dev is installed (make DPDK=0 builds the stub transport)
DPDK ?= $(shell $(PKGCONF) --exists libdpdk && echo 1 || echo 0)
ifeq ($(DPDK),1)
DPDK_CFLAGS := $(patsubst -I%,-isystem %,$(shell $(PKGCONF) --cflags libdpdk))
DPDK_LIBS   := $(shell $(PKGCONF) --libs libdpdk)
DPDK_OUT    := engine/transport/dpdk_stub.c
else
DPDK_OUT    := engine/transport/dpdk.c
endif

# Rebuild everything when the flags change (e.g. SAN=...), as git's GIT-CFLAGS does.
FLAGS_STAMP := $(BUILD)/.flags
$(shell mkdir -p $(BUILD) && echo '$(CC) $(BASE_CFLAGS) $(SAN_LDFLAGS) DPDK=$(DPDK)' | cmp -s - $(FLAGS_STAMP) || \
        echo '$(CC) $(BASE_CFLAGS) $(SAN_LDFLAGS) DPDK=$(DPDK)' > $(FLAGS_STAMP))
# ... and seqcast.pc when PREFIX changes
PREFIX_STAMP := $(BUILD)/.prefix
$(shell echo '$(PREFIX)' | cmp -s - $(PREFIX_STAMP) || echo '$(PREFIX)' > $(PREFIX_STAMP))

# ---------------------------------------------------------------- sources
# libseqcast: the codecs, the engine, the configuration, the pcap library and
# the feed-handler library -- everything a program needs besides its main
PROTO_SRC  := $(wildcard proto/*.c)
ENGINE_SRC := $(filter-out $(DPDK_OUT),$(wildcard engine/*.c engine/transport/*.c engine/archive/*.c))
CONFIG_SRC := $(wildcard config/*.c)
REPLAY_SRC := $(wildcard replay/*.c)
FEED_SRC   := $(wildcard feedhandler/*.c)
LIB_SRC    := $(PROTO_SRC) $(ENGINE_SRC) $(CONFIG_SRC) $(REPLAY_SRC) $(FEED_SRC)
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB_LIBS   := $(YAML_LIBS) $(PCAP_LIBS) $(DPDK_LIBS)

# apps/: every program's main, and the CLI helpers they share (options,
# config loading, stats output, the message generator)
APPS_LIB_SRC := $(filter-out apps/main_%.c,$(wildcard apps/*.c))
APPS_LIB_OBJ := $(APPS_LIB_SRC:%.c=$(BUILD)/obj/%.o)

# binaries: build/bin/seqcast-<name> from apps/main_<name>.c
BIN_MAINS := $(wildcard apps/main_*.c)
BINS      := $(patsubst main_%,$(BUILD)/bin/seqcast-%,$(basename $(notdir $(BIN_MAINS))))

UNIT_SRC   := $(wildcard tests/unit/test_*.c tests/sim/test_*.c)
UNIT_BINS  := $(addprefix $(BUILD)/tests/,$(basename $(notdir $(UNIT_SRC))))
# C integration tests: real sockets (kernel UDP) and real tools (tshark); run after the checks
INTEG_SRC  := $(wildcard tests/integration/test_*.c)
INTEG_BINS := $(addprefix $(BUILD)/tests/,$(basename $(notdir $(INTEG_SRC))))
SUPPORT_SRC := $(wildcard tests/support/*.c)
SUPPORT_OBJ := $(SUPPORT_SRC:%.c=$(BUILD)/obj/%.o)

FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES   := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_REPLAYS := $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz-replay-%)

INC_LIB  := -Iinclude -I.
# per-layer flags: proto sees nothing of ours
$(BUILD)/obj/proto/%.o:       LAYER_CFLAGS := -iquote include/seqcast/proto
$(BUILD)/obj/engine/%.o:      LAYER_CFLAGS := $(INC_LIB)
$(BUILD)/obj/engine/transport/dpdk.o: LAYER_CFLAGS := $(INC_LIB) $(DPDK_CFLAGS)
$(BUILD)/obj/config/%.o:      LAYER_CFLAGS := $(INC_LIB) $(YAML_CFLAGS)
$(BUILD)/obj/replay/%.o:      LAYER_CFLAGS := $(INC_LIB) $(PCAP_CFLAGS)
$(BUILD)/obj/feedhandler/%.o: LAYER_CFLAGS := $(INC_LIB) $(PCAP_CFLAGS)
$(BUILD)/obj/apps/%.o:        LAYER_CFLAGS := $(INC_LIB)
$(BUILD)/obj/tests/%.o:       LAYER_CFLAGS := $(INC_LIB) $(CRIT_CFLAGS) $(PCAP_CFLAGS) $(YAML_CFLAGS)

.PHONY: test-data hugepages bench all lib bins examples test unit-tests demo deps install uninstall fuzz fuzz-build clean \
        check-headers mutate
.DEFAULT_GOAL := all

EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))

all: lib bins examples
lib: $(BUILD)/libseqcast.a $(BUILD)/libseqcast.so $(BUILD)/seqcast.pc
bins: $(BINS)
examples: $(EXAMPLES)

# examples build as a user would: only the public headers and the library
$(BUILD)/examples/%: examples/%.c $(BUILD)/libseqcast.a
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -Iinclude -o $@ $< $(LINK_LIBS)

$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(QUIET_CC)$(CC) $(BASE_CFLAGS) $(LAYER_CFLAGS) -c -o $@ $<

$(BUILD)/libseqcast.a: $(LIB_OBJ)
	@rm -f $@
	$(QUIET_AR)ar rcs $@ $^

$(BUILD)/libseqcast.so: $(LIB_OBJ)
	$(QUIET_LINK)$(CC) -shared -Wl,-soname,libseqcast.so.0 -o $@ $^ $(LIB_LIBS) $(SAN_LDFLAGS) -pthread

$(BUILD)/seqcast.pc: Makefile $(PREFIX_STAMP)
	@mkdir -p $(@D)
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	  'Name: seqcast' 'Description: reliable multicast for market data (PGM / MoldUDP64 / SoupBinTCP)' \
	  'Version: $(VERSION)' 'Requires.private: yaml-0.1 libpcap$(if $(DPDK_LIBS), libdpdk)' \
	  'Libs: -L$${libdir} -lseqcast' 'Libs.private: -pthread' 'Cflags: -I$${includedir}' > $@

LINK_LIBS := $(BUILD)/libseqcast.a $(LIB_LIBS) -pthread $(SAN_LDFLAGS)

# the mains' objects are intermediate to make (a pattern rule's middle): keep them, or every
# `make` compiles each main again
.SECONDARY: $(patsubst apps/%.c,$(BUILD)/obj/apps/%.o,$(wildcard apps/main_*.c))

# a program links as a library user's would: its main, the CLI helpers, libseqcast
$(BUILD)/bin/seqcast-%: $(BUILD)/obj/apps/main_%.o $(APPS_LIB_OBJ) $(BUILD)/libseqcast.a
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) -o $@ $< $(APPS_LIB_OBJ) $(LINK_LIBS)

# ---------------------------------------------------------------- tests
TEST_OBJ := $(SUPPORT_OBJ) $(APPS_LIB_OBJ)
$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(TEST_OBJ) $(BUILD)/libseqcast.a
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) -o $@ $< $(TEST_OBJ) $(LINK_LIBS) $(CRIT_LIBS)
$(BUILD)/tests/test_%: $(BUILD)/obj/tests/sim/test_%.o $(TEST_OBJ) $(BUILD)/libseqcast.a
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) -o $@ $< $(TEST_OBJ) $(LINK_LIBS) $(CRIT_LIBS)
$(BUILD)/tests/test_%: $(BUILD)/obj/tests/integration/test_%.o $(TEST_OBJ) $(BUILD)/libseqcast.a
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) -o $@ $< $(TEST_OBJ) $(LINK_LIBS) $(CRIT_LIBS)

$(BUILD)/tests/fuzz-replay-%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/obj/tests/fuzz/replay_main.o $(BUILD)/libseqcast.a
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) -o $@ $^ $(LINK_LIBS)

# the OpenPGM peer for interop tests (Debian libpgm-dev; its symbols are pgm_*)
PGM_PC := openpgm-5.3
PGM_PEER := $(if $(shell $(PKGCONF) --exists $(PGM_PC) && echo y),$(BUILD)/tests/pgm_peer)
$(BUILD)/tests/pgm_peer: tests/interop/pgm_peer.c tests/interop/pgm_sock.h
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) -std=gnu11 -O2 -g -Wall -o $@ $< $(shell $(PKGCONF) --cflags --libs $(PGM_PC)) -pthread

# the MoldUDP64 peer for interop tests: standalone (libc + sockets), written from
# the protocol text alone, sharing no code with proto/ or engine/
$(BUILD)/tests/mold_peer: tests/interop/mold_peer.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) -std=c11 $(OPT) $(WARN) $(if $(SAN),-fsanitize=$(SAN) -fno-omit-frame-pointer) -o $@ $<

# a small ITCH 5.0 file for tests/integration/feedhandler.sh, made with the codec's encoder
$(BUILD)/tests/itch_file: tests/integration/itch_file.c $(BUILD)/libseqcast.a
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -Iinclude -o $@ $< $(LINK_LIBS)

# benchmark helpers (bench/*.c), built with the engine's headers
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
$(BUILD)/bench/%: bench/%.c $(BUILD)/libseqcast.a
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(INC_LIB) -o $@ $< $(LINK_LIBS)

# bench/dpdk_ref: the reference DPDK publisher (bench/dpdk.sh), built with DPDK only
ifeq ($(DPDK),1)
$(BUILD)/bench/dpdk_ref: bench/dpdk_ref.c apps/msggen.c $(BUILD)/libseqcast.a
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) -std=gnu11 -D_GNU_SOURCE $(OPT) $(WARN) $(INC_LIB) $(DPDK_CFLAGS) -o $@ bench/dpdk_ref.c apps/msggen.c $(LINK_LIBS)
else
BENCH_BINS := $(filter-out $(BUILD)/bench/dpdk_ref,$(BENCH_BINS))
endif

# bench/peer drives every system the benchmarks compare; OpenPGM and ZeroMQ
# are compiled in when their -dev packages are there (make bench installs them)
ZMQ_PC := libzmq
PEER_DEFS := $(if $(shell $(PKGCONF) --exists $(PGM_PC) && echo y),-DHAVE_PGM $(shell $(PKGCONF) --cflags $(PGM_PC))) \
             $(if $(shell $(PKGCONF) --exists $(ZMQ_PC) && echo y),-DHAVE_ZMQ $(shell $(PKGCONF) --cflags $(ZMQ_PC)))
PEER_LIBS := $(if $(shell $(PKGCONF) --exists $(PGM_PC) && echo y),$(shell $(PKGCONF) --libs $(PGM_PC))) \
             $(if $(shell $(PKGCONF) --exists $(ZMQ_PC) && echo y),$(shell $(PKGCONF) --libs $(ZMQ_PC)))
# ... and rebuilt when they appear or go (make bench installs them after a first build)
PEER_STAMP := $(BUILD)/.peer
$(shell mkdir -p $(BUILD) && echo '$(PEER_DEFS) $(PEER_LIBS)' | cmp -s - $(PEER_STAMP) || \
        echo '$(PEER_DEFS) $(PEER_LIBS)' > $(PEER_STAMP))
$(BUILD)/bench/peer: bench/peer.c bench/hist.h tests/interop/pgm_sock.h $(BUILD)/libseqcast.a $(PEER_STAMP)
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CC) -std=gnu11 -D_GNU_SOURCE $(OPT) $(WARN) -Wno-unused-function $(INC_LIB) $(PEER_DEFS) -o $@ $< $(LINK_LIBS) $(PEER_LIBS) -pthread

unit-tests: $(UNIT_BINS) $(INTEG_BINS) $(FUZZ_REPLAYS) $(BINS) $(PGM_PEER) $(BUILD)/tests/mold_peer \
            $(BUILD)/tests/itch_file

# `make test`: every suite speaks TAP; tests/run-suites.sh sums them and prints
# the closing "N passed, N failed, N skipped" line.
test: deps
	$(Q)$(MAKE) --no-print-directory all unit-tests
	$(Q)BUILD=$(BUILD) tests/run-suites.sh $(UNIT_BINS) $(FUZZ_REPLAYS) $(wildcard tests/check-*.sh) \
	  $(INTEG_BINS) $(wildcard tests/integration/*.sh tests/interop/*.sh)

# `make mutate`: each mutant of tests/mutants/mutants.txt built and tested in a
# scratch copy under $(BUILD)/mutate/ (scripts/mutate.sh; not part of make test)
MUTATE ?= -j2
mutate:
	$(Q)BUILD=$(BUILD) scripts/mutate.sh $(MUTATE)

# tests/data: captures made by our own generator (tests/integration/replay.sh
# checks that the committed files are exactly what it makes)
test-data: $(BUILD)/bin/seqcast-pcapgen
	$(Q)$(BUILD)/bin/seqcast-pcapgen -o tests/data

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) scripts/demo.sh

deps:
	$(Q)scripts/deps.sh

# reserve 2 MB hugepages and mount hugetlbfs for DPDK (root); see docs/OPERATIONS.md
HUGEPAGES ?= 512
hugepages:
	$(Q)scripts/hugepages.sh $(HUGEPAGES)

# make bench: measured figures (docs/BENCHMARKS.md); needs root for namespaces.
# make bench QUICK=1: every row, small and once (~2 min), reported in $(BUILD)/bench/
# (ZeroMQ and gnuplot only for the benchmarks: the ZeroMQ epgm column and the plot)
bench:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) QUICK=$(QUICK) bench/run.sh

# ---------------------------------------------------------------- fuzzing (clang)
# The parsers' library, once, with coverage and sanitizers, then one small link
# per target. The DPDK transport is the stub here: no parser is in it, and its
# real source needs DPDK's flags (without them `make fuzz` did not compile
# wherever libdpdk-dev is installed). tests/check-fuzz-build.sh builds them.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=address,undefined $(INC_LIB) -iquote include/seqcast/proto $(YAML_CFLAGS) $(PCAP_CFLAGS)
FUZZ_LIB_SRC := $(filter-out engine/transport/dpdk.c engine/transport/dpdk_stub.c,$(LIB_SRC)) \
                engine/transport/dpdk_stub.c
FUZZ_OBJ := $(FUZZ_LIB_SRC:%.c=$(BUILD)/fuzz/obj/%.o)
$(BUILD)/fuzz/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(QUIET_CC)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJ)
	@mkdir -p $(@D)
	$(QUIET_LINK)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(YAML_LIBS) $(PCAP_LIBS) -pthread

.SECONDARY: $(FUZZ_OBJ)
fuzz-build: $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)

fuzz: deps fuzz-build
	$(Q)for f in $(FUZZ_NAMES); do \
	  mkdir -p $(BUILD)/fuzz/corpus-$$f; \
	  echo "== fuzz $$f for $(FUZZ_SECONDS)s"; \
	  $(BUILD)/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    -artifact_prefix=$(BUILD)/fuzz/$$f- $(BUILD)/fuzz/corpus-$$f tests/fuzz/corpus/$$f \
	    2>$(BUILD)/fuzz/$$f.log || { tail -30 $(BUILD)/fuzz/$$f.log; exit 1; }; \
	  grep -E '^(#[0-9]+ *DONE|Done)' $(BUILD)/fuzz/$$f.log | tail -1; \
	done; echo "fuzz: no findings"

# ---------------------------------------------------------------- install
# `make` writes only inside the tree; `make install` copies into
# $(DESTDIR)$(PREFIX) (DESTDIR for staging a package: seqcast.pc still says
# PREFIX). tests/check-install.sh guards both.
install: lib bins
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/include/seqcast $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(BUILD)/libseqcast.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libseqcast.so $(DESTDIR)$(PREFIX)/lib/libseqcast.so.$(VERSION)
	ln -sf libseqcast.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libseqcast.so.0
	ln -sf libseqcast.so.0 $(DESTDIR)$(PREFIX)/lib/libseqcast.so
	install -d $(DESTDIR)$(PREFIX)/include/seqcast/proto
	install -m 644 include/seqcast/*.h $(DESTDIR)$(PREFIX)/include/seqcast/
	install -m 644 include/seqcast/proto/*.h $(DESTDIR)$(PREFIX)/include/seqcast/proto/
	install -m 644 $(BUILD)/seqcast.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	$(if $(BINS),install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/)

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/include/seqcast $(DESTDIR)$(PREFIX)/lib/libseqcast.* \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/seqcast.pc $(BINS:$(BUILD)/bin/%=$(DESTDIR)$(PREFIX)/bin/%)

# every public header compiles on its own
check-headers:
	$(Q)for h in include/seqcast/*.h include/seqcast/proto/*.h; do \
	  echo "#include \"$$h\"" | $(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -I. -x c -fsyntax-only - \
	  || exit 1; done; echo "headers: all self-contained"

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/fuzz/obj -name '*.d' 2>/dev/null)
