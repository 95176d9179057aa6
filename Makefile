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

.PHONY: all deps test demo clean vmtest bench fuzz
all: $(BUILD)/wirestate $(BUILD)/wsconn $(TESTS)

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

$(BUILD)/wirestate.skel.h: $(BUILD)/wirestate.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name wirestate_bpf > $@.tmp && mv $@.tmp $@

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

# The README's commands are scripts/test.sh and scripts/demo.sh: they work on a
# machine without make.  These targets are the same thing.
test:
	$(Q)scripts/test.sh

demo:
	$(Q)scripts/demo.sh

vmtest: all
	$(Q)vm/vmtest.sh

clean:
	rm -rf $(BUILD)
