# arbor: a PID-1 process supervisor with OTP's supervision model.
# make [all] | check | lint | demo | run | bench | fuzz | chaos | install | rootfs | clean
# Options: STATIC=0 (dynamic arbor and arborctl), SANITIZE=1 (ASan+UBSan),
#          VALGRIND=1 (check under valgrind), PREFIX=/usr/local, DESTDIR=,
#          QUICK=1 (bench)

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
B := build
CC ?= cc
STRIP ?= strip
PKGS := inih libcap-ng

# Debian packages arbor needs to build and test; installed when missing.
APT_BUILD := gcc libc6-dev make pkg-config libinih-dev libcap-ng-dev
APT_DEMO := procps util-linux jq
APT_TEST := bats bats-support bats-assert python3 util-linux procps jq valgrind nginx \
	clang libclang-rt-dev podman runc catatonit busybox-static tini tmux

WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-format-truncation
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE= -DARBOR_VERSION='"$(VERSION)"' $(WARN) $(HARDEN) $(CFLAGS) -Iinit -Iworkers \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS_H := -pie -Wl,-z,relro,-z,now
LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# arbor, arborctl and the example workers are static by default, so that
# they run in any image (glibc's libc.a; users come from /etc files, not
# NSS). ASan cannot link statically and valgrind cannot watch a static
# malloc: SANITIZE=1 and VALGRIND=1 build dynamically.
STATIC ?= 1
ifeq ($(SANITIZE),1)
override STATIC := 0
endif
ifneq ($(VALGRIND),)
override STATIC := 0
endif
ifeq ($(STATIC),1)
LDFLAGS_BIN := -static-pie -Wl,-z,relro,-z,now
NONSS := $(B)/init/nonss.o
else
LDFLAGS_BIN = $(LDFLAGS_H)
NONSS :=
endif

ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS_H += -fsanitize=address,undefined
endif

INIT_SRCS := $(filter-out init/main.c init/arborctl.c init/nonss.c,$(wildcard init/*.c))
INIT_OBJS := $(INIT_SRCS:%.c=$(B)/%.o)
FRAME_OBJ := $(B)/workers/frame.o
LIBARBOR_SRCS := $(filter-out workers/counter.c workers/agent.c workers/waiter.c,$(wildcard workers/*.c))
LIBARBOR_OBJS := $(LIBARBOR_SRCS:%.c=$(B)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
FIXTURE_SRCS := $(wildcard tests/fixtures/*.c)
FIXTURE_BINS := $(FIXTURE_SRCS:tests/fixtures/%.c=$(B)/fixtures/%)
PROGS := $(B)/arbor $(B)/arborctl $(B)/libarbor.a $(B)/counter $(B)/agent $(B)/waiter

.PHONY: all deps test-deps check lint demo run bench fuzz chaos install rootfs clean units

all: deps $(PROGS)

# Installs what is missing from Debian, once; quiet when all is there
# (scripts/build-ok compiles a program with the headers a build needs).
deps:
	@CC='$(CC)' scripts/build-ok $(PKGS) || scripts/apt-need $(APT_BUILD)

test-deps:
	@scripts/apt-need $(APT_TEST)

# Rebuild everything when the flags change (SANITIZE=1 and back).
$(B)/.flags: FORCE
	@mkdir -p $(B)
	@echo '$(ALL_CFLAGS) $(LDFLAGS_BIN)' | cmp -s - $@ || echo '$(ALL_CFLAGS) $(LDFLAGS_BIN)' > $@
FORCE:

$(B)/%.o: %.c $(B)/.flags $(wildcard init/*.h workers/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libinit.a: $(INIT_OBJS) $(FRAME_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/arbor: $(B)/init/main.o $(NONSS) $(B)/libinit.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_BIN) -o $@ $^ $(LIBS)

$(B)/arborctl: $(B)/init/arborctl.o $(NONSS) $(B)/libinit.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_BIN) -o $@ $^ $(LIBS)

$(B)/libarbor.a: $(LIBARBOR_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/counter $(B)/agent $(B)/waiter: $(B)/%: $(B)/workers/%.o $(B)/libarbor.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_BIN) -o $@ $^

$(B)/tests/%: tests/unit/%.c $(B)/libinit.a $(B)/libarbor.a $(B)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_H) -o $@ $< $(B)/libinit.a $(B)/libarbor.a $(LIBS)

$(B)/fixtures/%: tests/fixtures/%.c $(B)/libarbor.a $(B)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_H) -Iworkers -o $@ $< $(B)/libarbor.a

# arbor linked dynamically from the same objects, for the valgrind checks of
# the suite: valgrind cannot follow the malloc of a static binary.
$(B)/dyn/arbor: $(B)/init/main.o $(B)/libinit.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_H) -o $@ $^ $(LIBS)

units: $(UNIT_BINS) $(FIXTURE_BINS) $(B)/dyn/arbor

# The whole suite: C unit tests, then every bats file. Ends with
# "N passed, N failed" and fails when anything did.
check: deps test-deps all units
	@scripts/run-tests $(if $(VALGRIND),--valgrind)

# Functions of init/ and workers/ over 60 lines or a cognitive complexity
# of 25 that do not say why (see scripts/lint). Not part of check.
lint:
	@scripts/apt-need clang-tidy pkg-config
	@scripts/lint

demo: deps all
	@scripts/apt-need $(APT_DEMO)
	@ARBOR_BUILD=$(B) scripts/demo

run: deps all
	@scripts/apt-need $(APT_DEMO)
	$(B)/arbor -c conf/demo.ini

bench: deps all
	@ARBOR_BUILD=$(B) scripts/bench $(if $(QUICK),--quick)

fuzz:
	@scripts/fuzz $(or $(FUZZ_S),60)

chaos: deps all
	@scripts/chaos $(or $(CHAOS_S),600)

# Stripped binaries; the example workers in libexec/arbor/; arbor.h and
# libarbor.a where a -dev package puts them.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
		$(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/libexec/arbor \
		$(DESTDIR)$(PREFIX)/share/man/man3 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(PREFIX)/share/man/man8
	install -s --strip-program=$(STRIP) -m 0755 $(B)/arbor $(DESTDIR)$(PREFIX)/sbin/arbor
	install -s --strip-program=$(STRIP) -m 0755 $(B)/arborctl $(DESTDIR)$(PREFIX)/bin/arborctl
	install -s --strip-program=$(STRIP) -m 0755 $(B)/counter $(B)/agent $(B)/waiter \
		$(DESTDIR)$(PREFIX)/libexec/arbor/
	install -m 0644 $(B)/libarbor.a $(DESTDIR)$(PREFIX)/lib/libarbor.a
	install -m 0644 workers/arbor.h $(DESTDIR)$(PREFIX)/include/
	for m in man/*.[1-9]; do \
		s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; \
	done

# The root of arbor's container image, the Dockerfile's last stage (and
# the image tests/container.bats runs): arbor, arborctl and the example
# workers, the tree conf/image/arbor.ini as /etc/arbor/arbor.ini, an
# /etc/passwd and /etc/group of root and nobody, /tmp for the socket of a
# non-root arbor. Copies what `make` built, builds nothing.
ROOTFS ?= $(B)/rootfs
rootfs:
	install -d -m 0755 $(ROOTFS)/sbin $(ROOTFS)/usr/bin $(ROOTFS)/usr/libexec/arbor \
		$(ROOTFS)/etc/arbor $(ROOTFS)/run
	install -d -m 1777 $(ROOTFS)/tmp
	install -s --strip-program=$(STRIP) -m 0755 $(B)/arbor $(ROOTFS)/sbin/arbor
	install -s --strip-program=$(STRIP) -m 0755 $(B)/arborctl $(ROOTFS)/usr/bin/arborctl
	install -s --strip-program=$(STRIP) -m 0755 $(B)/counter $(B)/agent $(B)/waiter \
		$(ROOTFS)/usr/libexec/arbor/
	install -m 0644 conf/image/arbor.ini $(ROOTFS)/etc/arbor/arbor.ini
	printf '%s\n' root:x:0:0:root:/root:/sbin/nologin \
		nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin >$(ROOTFS)/etc/passwd
	printf '%s\n' root:x:0: nogroup:x:65534: >$(ROOTFS)/etc/group
	chmod 0644 $(ROOTFS)/etc/passwd $(ROOTFS)/etc/group

clean:
	rm -rf $(B)
