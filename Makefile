# Makefile - milter-dkim, milter-spf, milter-dmarc, milter-arc
#
#	make			build everything
#	make check		install missing packages, build, run every test
#	make SANITIZE=1 check	the same with ASan and UBSan
#	make demo		show the milters working in a private Postfix
#	make fuzz		run each libFuzzer harness (FUZZ_SECONDS each)
#	make fuzz-coverage	which code the fuzz corpora reach and miss
#	make faults		each daemon's result when DNS fails, as a table
#	make soak		load, reloads and kill -9 through a real Postfix
#	make install		PREFIX (/usr/local) and DESTDIR honoured
#	make deps		install missing Debian packages (as root)

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR	?= $(PREFIX)/lib/systemd/system
DESTDIR	?=

CC	?= cc
CFLAGS	?= -O2 -g
FUZZ_SECONDS ?= 60
PROVE	?= prove
PROVE_JOBS ?= 2

ifeq ($(SANITIZE),1)
B	:= build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=undefined
else
B	:= build/plain
SANFLAGS :=
endif

PKGS	:= openssl ldns libpsl libidn2 sqlite3 zlib libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lssl -lcrypto -lldns -lpsl -lidn2 -lsqlite3 -lz -lpq)
WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wformat=2 -Wno-unused-parameter
VERSION	:= 0.1.0
# common/ is three layers, each a library with its own include path, so
# that an include across the layers' order does not compile: util (no
# mail knowledge) sees only util; mail sees util and mail, and the
# libmilter headers are hidden from it by a directory of #error files
# searched before the system's; milter (the protocol engine and the
# daemon runtime), the daemons and the tests see all three.  Only the
# tests see t/.
POISON	:= $(B)/poison
INC_UTIL := -Icommon/util -I$(POISON)
INC_MAIL := -Icommon/util -Icommon/mail -I$(POISON)
INC_ALL	:= -Icommon/util -Icommon/mail -Icommon/milter
INC	= $(INC_ALL)
$(B)/common/util/%.o: INC = $(INC_UTIL)
$(B)/common/mail/%.o: INC = $(INC_MAIL)
$(B)/t/%.o: INC = $(INC_ALL) -It
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -pthread $(INC) $(WARN) $(CFLAGS) \
	     $(SANFLAGS) $(PKG_CFLAGS) -DVERSION='"$(VERSION)"' \
	     -DSYSCONFDIR='"$(SYSCONFDIR)"' -MMD -MP
LDLIBS	= $(PKG_LIBS) -pthread -lm

# Every directory's objects go under $(B).  Link order: milter, mail, util.
LAYERS	:= milter mail util
$(foreach l,$(LAYERS),$(eval $(l)_SRC := $(wildcard common/$(l)/*.c)))
COMMON_SRC := $(foreach l,$(LAYERS),$($(l)_SRC))
$(foreach l,$(LAYERS),$(eval LIB_$(l) := $(B)/libcommon_$(l).a))
LIBCOMMON := $(foreach l,$(LAYERS),$(LIB_$(l)))

# A daemon directory holds main.c (the daemon) and its modules; any other
# file with its own main() is listed in <dir>/TOOLS (one name per line:
# NAME builds $(B)/bin/NAME from <dir>/NAME.c plus the modules).
DAEMONS	:= $(patsubst %/main.c,%,$(wildcard milter-*/main.c))
define daemon_rules
$(1)_TOOLS := $$(shell cat $(1)/TOOLS 2>/dev/null)
$(1)_SRC := $$(filter-out $(1)/main.c $$($(1)_TOOLS:%=$(1)/%.c),$$(wildcard $(1)/*.c))
$(1)_LIB := $(B)/lib$(1).a
$$($(1)_LIB): $$($(1)_SRC:%.c=$(B)/%.o)
	@rm -f $$@
	ar rcs $$@ $$^
$(B)/bin/$(1): $(B)/$(1)/main.o $$($(1)_LIB) $(LIBCOMMON)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) -o $$@ $$^ $$(LDLIBS)
$$(foreach t,$$($(1)_TOOLS),$$(eval $$(call tool_rule,$(1),$$(t))))
BINS += $(B)/bin/$(1) $$($(1)_TOOLS:%=$(B)/bin/%)
DAEMON_LIBS += $$($(1)_LIB)
endef
define tool_rule
$(B)/bin/$(2): $(B)/$(1)/$(2).o $$($(1)_LIB) $(LIBCOMMON)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
BINS	:=
DAEMON_LIBS :=
$(foreach d,$(DAEMONS),$(eval $(call daemon_rules,$(d))))

# Tests: t/unit/NAME.c -> $(B)/t/unit/NAME (TAP), t/tools/NAME.c helpers,
# t/fuzz/fuzz_NAME.c harnesses replayed over t/fuzz/NAME/ by check.
UNIT_SRC := $(wildcard t/unit/*.c)
UNIT_BIN := $(UNIT_SRC:t/unit/%.c=$(B)/t/unit/%)
TOOL_SRC := $(wildcard t/tools/*.c)
TOOL_BIN := $(TOOL_SRC:t/tools/%.c=$(B)/t/tools/%)
FUZZ_SRC := $(wildcard t/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(FUZZ_SRC:t/fuzz/%.c=$(B)/t/fuzz/%)
FUZZ_BIN := $(FUZZ_SRC:t/fuzz/%.c=build/fuzz/%)
# What only the tests link: the zone-file DNS backend (t/dns_zone.c).
TESTLIB_SRC := t/dns_zone.c t/keyfile.c
TESTLIB	:= $(B)/libtest.a

.DEFAULT_GOAL := all
# keep objects that pattern rules make on the way to a binary
.SECONDARY:
.PHONY: all check test tests deps demo fuzz fuzz-coverage faults soak install clean bench
all: $(BINS)

$(B)/%.o: %.c | $(POISON)/libmilter/mfapi.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

define layer_lib
$(LIB_$(1)): $($(1)_SRC:%.c=$(B)/%.o)
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call layer_lib,$(l))))

# The milter headers as the util and mail layers see them.
$(POISON)/libmilter/mfapi.h:
	@mkdir -p $(@D)
	@for h in mfapi.h mfdef.h; do \
	    echo '#error "the util and mail layers do not use libmilter"' \
	        > $(@D)/$$h; done

$(TESTLIB): $(TESTLIB_SRC:%.c=$(B)/%.o)
	@rm -f $@
	ar rcs $@ $^

$(B)/t/unit/%: $(B)/t/unit/%.o $(DAEMON_LIBS) $(TESTLIB) $(LIBCOMMON)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/t/tools/%: $(B)/t/tools/%.o $(DAEMON_LIBS) $(TESTLIB) $(LIBCOMMON)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/t/fuzz/fuzz_%: $(B)/t/fuzz/fuzz_%.o $(B)/t/fuzz/replay.o $(DAEMON_LIBS) $(TESTLIB) $(LIBCOMMON)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

tests: all $(UNIT_BIN) $(TOOL_BIN) $(FUZZ_REPLAY)

deps:
	@sh contrib/install-deps.sh test
	@sh t/lib/get-sendmail build/sendmail

# The test scripts find the build through BUILD and the shared test data
# through TESTDATA.
TESTDATA ?= $(abspath ../shared/testdata)
check: deps
	$(MAKE) tests
	@[ -d "$(TESTDATA)" ] || echo "make check: $(TESTDATA) is missing," \
	    "so the tests of the standards' own examples and suites skip;" \
	    "set TESTDATA to where they are"
	BUILD=$(abspath $(B)) TESTDATA=$(TESTDATA) SANITIZE=$(SANITIZE) \
	    $(PROVE) -j$(PROVE_JOBS) $(UNIT_BIN) t/*.t
test: check

demo: deps
	$(MAKE) all $(TOOL_BIN)
	BUILD=$(abspath $(B)) sh t/demo.sh

# Fuzzing with libFuzzer (clang); each harness runs FUZZ_SECONDS on a copy
# of its seed corpus; new crashes land in build/fuzz/.
FUZZ_CFLAGS = -std=gnu11 -D_GNU_SOURCE -pthread $(INC_ALL) -It -g -O1 \
	      -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) \
	      -DVERSION='"$(VERSION)"' -DSYSCONFDIR='"$(SYSCONFDIR)"'
build/fuzz/%: t/fuzz/%.c $(COMMON_SRC) $(TESTLIB_SRC)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< $(COMMON_SRC) $(TESTLIB_SRC) $(LDLIBS)
fuzz: deps $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
	    n=$${f#build/fuzz/fuzz_}; mkdir -p build/fuzz/corpus-$$n; \
	    cp t/fuzz/$$n/* build/fuzz/corpus-$$n/ 2>/dev/null; \
	    echo "== $$n ($(FUZZ_SECONDS) s)"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build/fuzz/$$n- \
	        -print_final_stats=1 build/fuzz/corpus-$$n t/fuzz/$$n || exit 1; \
	done

# Sustained load, reloads under load and a kill -9 through a real Postfix
# (SOAK_SECONDS=600 for the full run), then thousands of idle milter
# connections beside real mail.
soak: tests
	BUILD=$(abspath $(B)) sh t/soak.sh
	BUILD=$(abspath $(B)) bash t/idle.sh

# The DNS fault matrix: each daemon's result and time under each failure.
faults: tests
	BUILD=$(abspath $(B)) sh t/dns_faults.t | sed -n 's/^# //p'

# Which code the fuzz corpora reach: each harness built with clang's
# source-based coverage, run over its seeds (and a fuzzing run's corpus).
COV_BIN := $(FUZZ_SRC:t/fuzz/%.c=build/cov/%)
COV_CFLAGS = -std=gnu11 -D_GNU_SOURCE -pthread $(INC_ALL) -It -g -O0 \
	      -fprofile-instr-generate -fcoverage-mapping $(PKG_CFLAGS) \
	      -DVERSION='"$(VERSION)"' -DSYSCONFDIR='"$(SYSCONFDIR)"'
build/cov/%: t/fuzz/%.c t/fuzz/replay.c $(COMMON_SRC)
	@mkdir -p $(@D)
	clang $(COV_CFLAGS) -o $@ $< t/fuzz/replay.c $(COMMON_SRC) $(LDLIBS)
fuzz-coverage: deps $(COV_BIN)
	sh t/fuzz/coverage.sh build/cov $(COV_BIN)

bench: all $(TOOL_BIN)
	BUILD=$(abspath $(B)) sh t/bench.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	for b in $(BINS); do install -m 755 $$b $(DESTDIR)$(SBINDIR)/; done
	for m in man/*.5; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man5/ || true; done
	for m in man/*.7; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man7/ || true; done
	for m in man/*.8; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man8/ || true; done
	if ls contrib/*.service >/dev/null 2>&1; then \
	    install -d $(DESTDIR)$(UNITDIR); \
	    for u in contrib/*.service; do \
	        sed -e 's|/usr/local/sbin/|$(SBINDIR)/|' \
	            -e 's| -c /etc/| -c $(SYSCONFDIR)/|' $$u \
	            > $(DESTDIR)$(UNITDIR)/$${u#contrib/}; \
	        chmod 644 $(DESTDIR)$(UNITDIR)/$${u#contrib/}; done; fi

clean:
	rm -rf build

-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)
