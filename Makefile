# parceldesk — plain make. `make` builds the daemon and the client;
# `make test` builds with sanitizers and runs every test; `make tsan-check`
# runs the threads under ThreadSanitizer; `make fuzz` builds
# the fuzz targets (parser, store, connections); `make install PREFIX=... DESTDIR=...`.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
BUILD   ?= build
PKGS     = libevent libevent_pthreads libevent_openssl openssl lmdb msgpack libcrypt libnats
INCDIRS  = -Iprotocol -Idaemon/core -Idaemon/modules -Idaemon/rules -Iclient
CPPFLAGS += -D_GNU_SOURCE $(INCDIRS) $(shell pkg-config --cflags $(PKGS) libedit 2>/dev/null)
CFLAGS  ?= -O2 -g
# Always added, also when CFLAGS is given on the command line (the
# sanitizer build of tests/run.sh): the same language and warnings everywhere.
WARN     = -std=c11 -Wall -Wextra -Wpedantic -Werror -pthread
LDLIBS_D = $(shell pkg-config --libs $(PKGS)) -pthread
LDLIBS_C = $(shell pkg-config --libs msgpack libedit openssl) -pthread
# sd_notify for systemd's Type=notify, where libsystemd is there (Debian:
# libsystemd-dev); elsewhere the daemon just runs without telling.
ifeq ($(shell pkg-config --exists libsystemd && echo yes),yes)
CPPFLAGS += -DHAVE_SYSTEMD
LDLIBS_D += $(shell pkg-config --libs libsystemd)
endif

# The one version of both programs: the file VERSION, and the commit when
# built from this project's own git checkout ("+dirty" with local changes).
VERSION    := $(shell cat VERSION)
GIT_COMMIT := $(shell [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] && \
		c=$$(git rev-parse --short=12 HEAD) && \
		{ git diff --quiet HEAD -- 2>/dev/null || c="$$c+dirty"; } && echo "$$c")

PROTO_SRC  = $(wildcard protocol/*.c)
DAEMON_SRC = $(wildcard daemon/core/*.c daemon/modules/*.c daemon/rules/*.c)
CLIENT_SRC = $(wildcard client/*.c)
UNIT_SRC   = $(wildcard tests/unit/test_*.c)
CONTRIB_C  = $(wildcard contrib/*.c)

PROTO_OBJ  = $(PROTO_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ = $(DAEMON_SRC:%.c=$(BUILD)/%.o)
DAEMON_LIB_OBJ = $(filter-out $(BUILD)/daemon/core/main.o,$(DAEMON_OBJ))
CLIENT_OBJ = $(CLIENT_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
CONTRIB_BIN = $(CONTRIB_C:contrib/%.c=$(BUILD)/contrib/%)

all: $(BUILD)/parceldeskd $(BUILD)/parceldesk $(CONTRIB_BIN) $(BUILD)/parceldesk.bash

# the client's bash completion, generated from the command table
$(BUILD)/parceldesk.bash: $(BUILD)/contrib/gen-completion
	$< > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c $(wildcard protocol/*.h daemon/*/*.h daemon/*/*.def client/*.h) protocol/commands.def
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c $< -o $@

# version.o alone is rebuilt when the version or the commit changes
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo '$(VERSION) $(GIT_COMMIT)' | cmp -s - $@ || echo '$(VERSION) $(GIT_COMMIT)' > $@
$(BUILD)/protocol/version.o: $(BUILD)/version.stamp
$(BUILD)/protocol/version.o: CPPFLAGS += -DPD_VERSION='"$(VERSION)"' -DPD_COMMIT='"$(GIT_COMMIT)"'

$(BUILD)/libpdproto.a: $(PROTO_OBJ)
	ar rcs $@ $^

$(BUILD)/parceldeskd: $(DAEMON_OBJ) $(BUILD)/libpdproto.a
	$(CC) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $^ $(LDLIBS_D)

$(BUILD)/parceldesk: $(CLIENT_OBJ) $(BUILD)/libpdproto.a
	$(CC) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $^ $(LDLIBS_C)

# contrib tools (generator, import, bench) share the protocol library; the
# importer also writes a stopped daemon's store through daemon/store.c.
$(BUILD)/contrib/%: $(BUILD)/contrib/%.o $(DAEMON_LIB_OBJ) $(BUILD)/libpdproto.a
	$(CC) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $^ $(LDLIBS_D)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(DAEMON_LIB_OBJ) $(BUILD)/libpdproto.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $^ $(LDLIBS_D) -lcmocka

unit: $(UNIT_BIN)

# Sanitizer build for tests: ASan + UBSan, no recovery.
SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

test:
	sh tests/run.sh

check-build:
	$(MAKE) BUILD=build/san CFLAGS="$(SAN_FLAGS)" all unit

# ThreadSanitizer build (build/tsan) under the e2e files that work the
# threads hardest and a pipelined 50-connection stress; fails on any
# report. A few minutes: not part of tests/run.sh (docs/testing.md).
TSAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=thread
tsan-check:
	$(MAKE) BUILD=build/tsan CFLAGS="$(TSAN_FLAGS)" all
	sh tests/tsan-check.sh build/tsan

FUZZ_CC ?= clang
FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -pthread \
	-fsanitize=fuzzer,address,undefined
fuzz: $(BUILD)/fuzz_request $(BUILD)/fuzz_store $(BUILD)/fuzz_conn $(BUILD)/fuzz_changeset
$(BUILD)/fuzz_request: tests/fuzz/fuzz_request.c $(PROTO_SRC)
	@mkdir -p $(BUILD)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Iprotocol $^ -o $@ $(shell pkg-config --libs msgpack)
$(BUILD)/fuzz_changeset: tests/fuzz/fuzz_changeset.c daemon/core/changeset.c $(PROTO_SRC)
	@mkdir -p $(BUILD)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(INCDIRS) $^ -o $@ $(LDLIBS_D)
# fuzz_store: command sequences through the daemon's handlers, against a
# temporary store; fuzz_conn: byte streams through the connection handling
# (conn.c) with the writer and a temporary store behind it
$(BUILD)/fuzz_store $(BUILD)/fuzz_conn: $(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c \
		$(filter-out daemon/core/main.c,$(DAEMON_SRC)) $(PROTO_SRC) \
		$(wildcard protocol/*.h daemon/*/*.h) protocol/commands.def
	@mkdir -p $(BUILD)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(INCDIRS) $(filter %.c,$^) -o $@ $(LDLIBS_D)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/doc/parceldesk
	install -m 755 $(BUILD)/parceldeskd $(DESTDIR)$(PREFIX)/sbin/parceldeskd
	install -m 755 $(BUILD)/parceldesk $(DESTDIR)$(PREFIX)/bin/parceldesk
	install -m 644 man/parceldeskd.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 man/parceldesk.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 644 $(BUILD)/parceldesk.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/parceldesk
	install -m 644 protocol/PROTOCOL.md contrib/parceldeskd.conf $(DESTDIR)$(PREFIX)/share/doc/parceldesk/

# Removes exactly what install wrote; data directories and config are the admin's.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/parceldeskd $(DESTDIR)$(PREFIX)/bin/parceldesk \
		$(DESTDIR)$(PREFIX)/share/man/man8/parceldeskd.8 \
		$(DESTDIR)$(PREFIX)/share/man/man1/parceldesk.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/parceldesk
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/parceldesk

clean:
	rm -rf build

.PHONY: all unit test check-build tsan-check fuzz install uninstall clean FORCE
.SECONDARY:
