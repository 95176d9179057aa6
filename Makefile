# wirestate — see README.md.  `make V=1` shows every command.
CLANG   ?= clang
CC      ?= gcc
BPFTOOL ?= bpftool
BUILD   := build
ARCH    := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS  ?= -O2 -g
WS_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
	     -Iinclude -Iuser -I$(BUILD) $(CFLAGS)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
	      -Ivmlinux -Iinclude -Wall -Werror
LIBBPF_LIBS := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
CMOCKA_LIBS := -lcmocka

HEADERS   := $(wildcard include/*.h) $(wildcard user/*.h)
USER_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
TEST_SRCS := $(wildcard tests/test_*.c)
TESTS     := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))

.PHONY: all deps test demo clean vmtest bench fuzz sanitize san-build valgrind
all: $(BUILD)/wirestate $(BUILD)/wsconn $(TESTS) $(BUILD)/fuzz_parse

# the TCP endpoints the demo and the namespace tests use
$(BUILD)/wsconn: tests/tools/wsconn.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(WS_CFLAGS) $< -o $@

deps:
	$(Q)scripts/deps.sh all

$(BUILD) $(BUILD)/user $(BUILD)/tests:
	$(Q)mkdir -p $@

$(BUILD)/wirestate.bpf.o: bpf/wirestate.bpf.c $(wildcard include/*.h) vmlinux/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)scripts/bpf-stack.sh $@ || { rm -f $@; exit 1; }

$(BUILD)/wirestate.skel.h: $(BUILD)/wirestate.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name wirestate_bpf > $@.tmp && mv $@.tmp $@

# the socket view (--sockets): a second BPF object with its own skeleton
$(BUILD)/sockets.bpf.o: bpf/sockets.bpf.c $(wildcard include/*.h) vmlinux/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)scripts/bpf-stack.sh $@ || { rm -f $@; exit 1; }

$(BUILD)/sockets.skel.h: $(BUILD)/sockets.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name sockets_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/user/sockets.o: $(BUILD)/sockets.skel.h

$(BUILD)/user/%.o: user/%.c $(HEADERS) $(BUILD)/wirestate.skel.h | $(BUILD)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(WS_CFLAGS) -c $< -o $@

$(BUILD)/libws.a: $(USER_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/wirestate: $(BUILD)/user/main.o $(BUILD)/libws.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(WS_CFLAGS) $^ $(LIBBPF_LIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(BUILD)/libws.a $(HEADERS) $(wildcard tests/*.h) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(WS_CFLAGS) -Itests $< $(BUILD)/libws.a $(LIBBPF_LIBS) $(CMOCKA_LIBS) -o $@

# The native unit tests (every tests/test_*.c that tests/run.sh does not list
# as a kernel test) and user/*.c again under ASan/UBSan, into build/san with
# their own objects.  `make sanitize` builds and runs them, `make valgrind`
# runs the normal unit test binaries under valgrind; `tests/run.sh all` runs both.
SAN_DIR    := $(BUILD)/san
SAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
KERNEL_TESTS := $(shell sed -n 's/^kernel_tests="\(.*\)"$$/\1/p' tests/run.sh)
UNIT_TESTS := $(filter-out $(KERNEL_TESTS),$(patsubst tests/%.c,%,$(TEST_SRCS)))
SAN_OBJS   := $(patsubst user/%.c,$(SAN_DIR)/user/%.o,$(USER_SRCS))
SAN_TESTS  := $(addprefix $(SAN_DIR)/tests/,$(UNIT_TESTS))

$(SAN_DIR)/user/%.o: user/%.c $(HEADERS) $(BUILD)/wirestate.skel.h $(BUILD)/sockets.skel.h
	$(call msg,SAN-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(WS_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(SAN_DIR)/libws.a: $(SAN_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(SAN_DIR)/tests/%: tests/%.c $(SAN_DIR)/libws.a $(HEADERS) $(wildcard tests/*.h)
	$(call msg,SAN-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(WS_CFLAGS) $(SAN_FLAGS) -Itests $< $(SAN_DIR)/libws.a $(LIBBPF_LIBS) $(CMOCKA_LIBS) -o $@

san-build: $(SAN_TESTS)

sanitize: san-build
	$(Q)tests/run.sh sanitize

valgrind: $(patsubst %,$(BUILD)/tests/%,$(UNIT_TESTS))
	$(Q)tests/run.sh valgrind

# libFuzzer target (tests/fuzz_parse.c): parser + state machine under ASan/UBSan.
# `make fuzz` runs it FUZZ_SECONDS on tests/corpus (read only); what it finds
# goes to build/fuzz/corpus, crashes to build/fuzz/artifacts.  Needs libclang-rt-dev.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Iinclude -g -O1 \
	       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
$(BUILD)/fuzz_parse: tests/fuzz_parse.c $(wildcard include/*.h) | $(BUILD)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< -o $@

fuzz: $(BUILD)/fuzz_parse
	$(Q)mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/artifacts
	$(Q)$(BUILD)/fuzz_parse -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz/artifacts/ $(BUILD)/fuzz/corpus tests/corpus

# The README's commands are scripts/test.sh and scripts/demo.sh: they work on a
# machine without make.  These targets are the same thing.
test:
	$(Q)scripts/test.sh

demo:
	$(Q)scripts/demo.sh

# Benchmarks (root; bench/README.md): one table, about 3 minutes.
# bench/floor.bpf.c: what single pieces of wirestate's work cost (xdp_cost only)
$(BUILD)/bench/floor.bpf.o: bench/floor.bpf.c $(wildcard include/*.h) vmlinux/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/floor.skel.h: $(BUILD)/bench/floor.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name floor_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/bench/xdp_cost: bench/xdp_cost.c $(BUILD)/libws.a $(BUILD)/wirestate.skel.h \
		$(BUILD)/bench/floor.skel.h $(HEADERS) tests/frames.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(WS_CFLAGS) -Itests -I$(BUILD)/bench $< $(BUILD)/libws.a $(LIBBPF_LIBS) -o $@

$(BUILD)/bench/connstorm: bench/connstorm.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(WS_CFLAGS) -pthread $< -o $@

bench:
	$(Q)scripts/deps.sh build
	$(Q)$(MAKE) --no-print-directory $(BUILD)/wirestate $(BUILD)/bench/xdp_cost $(BUILD)/bench/connstorm
	$(Q)bench/run.sh

# The kernel tests again on Debian 12's 6.1 kernel under qemu (vm/README.md).
# Emulation (TCG) is ~10x slower: the fuzz run and the differential test are
# shortened there; the timeout is a backstop, the run takes 8-13 minutes here
# (each test loads and verifies the whole object again, at TCG speed).
vmtest: all
	$(Q)WS_FUZZ_SECONDS=$${WS_FUZZ_SECONDS:-5} WS_FUZZDIFF_N=$${WS_FUZZDIFF_N:-3000} \
		VM_PASS_ENV="WS_FUZZ_SECONDS WS_FUZZDIFF_N $${VM_PASS_ENV:-}" \
		VM_TIMEOUT=$${VM_TIMEOUT:-1500} vm/vmtest.sh

clean:
	rm -rf $(BUILD)
