# arbor: a PID-1 process supervisor with OTP's supervision model.
# make [all] | check | demo | run | bench | fuzz | chaos | install | clean
# Options: SANITIZE=1 (ASan+UBSan), VALGRIND=1 (check under valgrind),
#          PREFIX=/usr/local, DESTDIR=, QUICK=1 (bench)

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
B := build
CC ?= cc
PKGS := inih libcap-ng

# Debian packages arbor needs to build and test; installed when missing.
APT_BUILD := gcc make pkg-config libinih-dev libcap-ng-dev
APT_TEST := bats bats-support bats-assert python3 util-linux procps jq valgrind \
	clang libclang-rt-dev tini

WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-format-truncation
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE= -DARBOR_VERSION='"$(VERSION)"' $(WARN) $(HARDEN) $(CFLAGS) -Iinit -Iworkers \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS_H := -pie -Wl,-z,relro,-z,now
LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS_H += -fsanitize=address,undefined
endif

INIT_SRCS := $(filter-out init/main.c init/arborctl.c,$(wildcard init/*.c))
INIT_OBJS := $(INIT_SRCS:%.c=$(B)/%.o)
FRAME_OBJ := $(B)/workers/frame.o
LIBARBOR_SRCS := $(filter-out workers/counter.c workers/agent.c,$(wildcard workers/*.c))
LIBARBOR_OBJS := $(LIBARBOR_SRCS:%.c=$(B)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
FIXTURE_SRCS := $(wildcard tests/fixtures/*.c)
FIXTURE_BINS := $(FIXTURE_SRCS:tests/fixtures/%.c=$(B)/fixtures/%)
PROGS := $(B)/arbor $(B)/arborctl $(B)/libarbor.a $(B)/counter $(B)/agent

.PHONY: all deps test-deps check demo run bench fuzz chaos install clean units

all: deps $(PROGS)

# Installs what is missing from Debian, once; quiet when all is there.
deps:
	@pkg-config --exists $(PKGS) 2>/dev/null && command -v cc >/dev/null || \
		scripts/apt-need $(APT_BUILD)

test-deps:
	@scripts/apt-need $(APT_TEST)

# Rebuild everything when the flags change (SANITIZE=1 and back).
$(B)/.flags: FORCE
	@mkdir -p $(B)
	@echo '$(ALL_CFLAGS) $(LDFLAGS_H)' | cmp -s - $@ || echo '$(ALL_CFLAGS) $(LDFLAGS_H)' > $@
FORCE:

$(B)/%.o: %.c $(B)/.flags $(wildcard init/*.h workers/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libinit.a: $(INIT_OBJS) $(FRAME_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/arbor: $(B)/init/main.o $(B)/libinit.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_H) -o $@ $^ $(LIBS)

$(B)/arborctl: $(B)/init/arborctl.o $(B)/libinit.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_H) -o $@ $^ $(LIBS)

$(B)/libarbor.a: $(LIBARBOR_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/counter $(B)/agent: $(B)/%: $(B)/workers/%.o $(B)/libarbor.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_H) -o $@ $^

$(B)/tests/%: tests/unit/%.c $(B)/libinit.a $(B)/libarbor.a $(B)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_H) -o $@ $< $(B)/libinit.a $(B)/libarbor.a $(LIBS)

$(B)/fixtures/%: tests/fixtures/%.c $(B)/libarbor.a $(B)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_H) -Iworkers -o $@ $< $(B)/libarbor.a

units: $(UNIT_BINS) $(FIXTURE_BINS)

# The whole suite: C unit tests, then every bats file. Ends with
# "N passed, N failed" and fails when anything did.
check: deps test-deps all units
	@scripts/run-tests $(if $(VALGRIND),--valgrind)

demo: deps all
	@ARBOR_BUILD=$(B) scripts/demo

run: deps all
	$(B)/arbor -c conf/demo.ini

bench: deps all
	@ARBOR_BUILD=$(B) scripts/bench $(if $(QUICK),--quick)

fuzz:
	@scripts/fuzz $(or $(FUZZ_S),60)

chaos: deps all
	@scripts/chaos $(or $(CHAOS_S),600)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
		$(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/libexec/arbor \
		$(DESTDIR)$(PREFIX)/share/man/man3 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(B)/arbor $(DESTDIR)$(PREFIX)/sbin/arbor
	install -m 0755 $(B)/arborctl $(DESTDIR)$(PREFIX)/bin/arborctl
	install -m 0644 $(B)/libarbor.a $(DESTDIR)$(PREFIX)/lib/libarbor.a
	install -m 0644 workers/arbor.h $(DESTDIR)$(PREFIX)/include/
	install -m 0755 $(B)/counter $(B)/agent $(DESTDIR)$(PREFIX)/libexec/arbor/
	for m in man/*.[1-9]; do \
		s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; \
	done

clean:
	rm -rf $(B)
