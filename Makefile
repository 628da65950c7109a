# aigw: nginx module, command-line tool and tests.
#
#   make deps            Debian packages needed to build and test
#   make                 build/ngx_http_aigw_module.so and build/aigw
#   make demo            the gateway end to end: Redis, a Bedrock simulator,
#                        nginx, requests, the counters; then cleaned up
#   make test            build, then unit and integration tests
#   make test-valgrind   the integration tests with nginx under memcheck
#   make test-asan       the integration tests with an nginx built from
#                        Debian's source with ASan and UBSan, the module in
#                        (make deps-asan: what that needs besides)
#   make fuzz            the libFuzzer targets of t/fuzz, FUZZ_SECONDS
#                        (60) each; make fuzz-smoke: 10 s each, for CI;
#                        make fuzz-deps: clang and its fuzzer runtime
#   make clean
#
# The module is built against Debian's nginx-dev tree with the exact
# configure flags of Debian's nginx, so the .so loads into /usr/sbin/nginx.
# For any other nginx: make NGINX_SRC=/path/to/nginx-1.x.y \
#                          NGINX_CONFIGURE_ARGS="--with-compat ..."
# (the flags of the nginx binary it is for, as "nginx -V" prints them).

SHELL         := /bin/bash

NGINX_SRC     ?= /usr/share/nginx/src
NGINX_BIN     ?= /usr/sbin/nginx
BUILD         ?= build
PYTHON        ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 \
                   || echo python3)
PYTEST_ARGS   ?=

DEBIAN_PKGS    = build-essential nginx nginx-dev libssl-dev libjansson-dev \
                 libhiredis-dev libcurl4-openssl-dev libpcre2-dev zlib1g-dev redis-server \
                 python3-pytest python3-botocore python3-prometheus-client wrk \
                 curl openssl valgrind \
                 ca-certificates $(sort $(FUZZ_PKGS) $(ASAN_PKGS))

# what "make test-asan" needs besides: Debian's source package of nginx
# (dpkg-source, xz) and clang with its sanitizers' runtime and symbolizer
ASAN_PKGS      = dpkg-dev xz-utils clang libclang-rt-dev llvm

# Debian's hardening flags, as its nginx and its module packages use
NGX_CC_OPT     = -g -O2 -fstack-protector-strong -Wformat \
                 -Werror=format-security -fPIC -Wdate-time \
                 -D_FORTIFY_SOURCE=2
NGX_LD_OPT     = -Wl,-z,relro -Wl,-z,now -fPIC

NGX_BUILD      = $(BUILD)/nginx
MODULE         = $(BUILD)/ngx_http_aigw_module.so

# test-only: "aigw_fetch_test", the fetches of ngx_http_aigw_fetch.c one
# per request (t/test_fetch.py); loaded after the module, whose code it
# runs; built in the same nginx tree, never part of the module
FETCH_TEST_DIR = t/fetch
FETCH_TEST     = $(BUILD)/test-fetch/ngx_http_aigw_fetch_test_module.so
FETCH_TEST_SRCS = $(wildcard $(FETCH_TEST_DIR)/*.c) $(FETCH_TEST_DIR)/config

CORE_SRCS      = $(wildcard src/core/*.c)
CORE_HDRS      = $(wildcard src/core/*.h) $(LUA_GEN)
NGX_SRCS       = $(wildcard src/ngx/*.c src/ngx/*.h)
CLI_SRCS       = $(wildcard src/cli/*.c)
CLI_HDRS       = $(wildcard src/cli/*.h)
UNIT_SRCS      = $(wildcard t/unit/test_*.c)
UNIT_BINS      = $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))

# the Lua scripts (counting, limits), embedded in the core at build time
# by src/lua/embed.sh: into $(BUILD)/gen for the core's own builds (unit
# tests, CLI, fuzz, benchmarks); in an nginx tree "config" writes them
# into objs/aigw, and the rules below write them again when they change
LUA_SCRIPTS    = record limits
LUA_SRC        = $(LUA_SCRIPTS:%=src/lua/aigw_%.lua)
LUA_EMBED      = for s in $(LUA_SCRIPTS); do \
                     sh src/lua/embed.sh src/lua/aigw_$$s.lua \
                         $(1)/aigw_$${s}_lua.h || exit 1; \
                 done
LUA_GEN_DIR    = $(BUILD)/gen
LUA_GEN        = $(LUA_SCRIPTS:%=$(LUA_GEN_DIR)/aigw_%_lua.h)
NGX_LUA_GEN    = objs/aigw

CC            ?= cc
CFLAGS        ?= -g -O2
AIGW_CFLAGS    = $(CFLAGS) -std=gnu99 -Wall -Wextra -Wpointer-arith \
                 -Wno-unused-parameter -Werror -fstack-protector-strong \
                 -D_FORTIFY_SOURCE=2 -Isrc/core -I$(LUA_GEN_DIR)
CORE_LIBS      = -lcrypto -ljansson


.PHONY: all module cli deps demo test unit integration test-valgrind clean \
        fetch-test \
        FORCE fuzz fuzz-build fuzz-smoke fuzz-deps \
        asan deps-asan test-asan \
        bench bench-decode bench-gateway bench-sign

all: module cli

module: $(MODULE)

cli: $(BUILD)/aigw


# nginx's build system writes into the tree it configures: configure a
# private copy, once; "make modules" then rebuilds only what changed

# the sources nginx's build knows of are fixed at configure time: configure
# again when a file is added or removed, not when one changes
$(BUILD)/sources.list: FORCE
	@mkdir -p $(BUILD)
	@echo $(sort $(CORE_SRCS) $(CORE_HDRS) $(NGX_SRCS) \
	    $(FETCH_TEST_SRCS)) > $@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

$(NGX_BUILD)/.configured: config $(FETCH_TEST_DIR)/config Makefile \
                          $(BUILD)/sources.list
	@test -f $(NGINX_SRC)/auto/module || { \
	    echo "no nginx build tree at $(NGINX_SRC): run 'make deps'" \
	         "(Debian's nginx-dev) or set NGINX_SRC"; exit 1; }
	rm -rf $(NGX_BUILD)
	mkdir -p $(NGX_BUILD)
	cp -R $(NGINX_SRC)/. $(NGX_BUILD)/
	cd $(NGX_BUILD) && \
	if [ -f conf_flags ]; then \
	    . ./conf_flags; \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --with-cc-opt="$(NGX_CC_OPT)" --with-ld-opt="$(NGX_LD_OPT)" \
	        --add-dynamic-module=$(CURDIR) \
	        --add-dynamic-module=$(CURDIR)/$(FETCH_TEST_DIR) >configure.log; \
	else \
	    ./configure $(NGINX_CONFIGURE_ARGS) \
	        --add-dynamic-module=$(CURDIR) \
	        --add-dynamic-module=$(CURDIR)/$(FETCH_TEST_DIR) >configure.log; \
	fi || { cat $(CURDIR)/$(NGX_BUILD)/configure.log; exit 1; }
	touch $@

$(MODULE): $(NGX_BUILD)/.configured $(CORE_SRCS) $(CORE_HDRS) $(NGX_SRCS)
	$(call LUA_EMBED,$(NGX_BUILD)/$(NGX_LUA_GEN))
	$(MAKE) -C $(NGX_BUILD) -f objs/Makefile modules
	@# a new file, not the old one rewritten: a running nginx keeps its copy
	cp $(NGX_BUILD)/objs/ngx_http_aigw_module.so $@.tmp
	mv -f $@.tmp $@

fetch-test: $(FETCH_TEST)

$(FETCH_TEST): $(MODULE) $(FETCH_TEST_SRCS) src/ngx/ngx_http_aigw_fetch.h
	$(MAKE) -C $(NGX_BUILD) -f objs/Makefile modules
	@mkdir -p $(dir $@)
	cp $(NGX_BUILD)/objs/ngx_http_aigw_fetch_test_module.so $@.tmp
	mv -f $@.tmp $@


$(LUA_GEN_DIR)/aigw_%_lua.h: src/lua/aigw_%.lua src/lua/embed.sh
	sh src/lua/embed.sh $< $@

$(BUILD)/aigw: $(CLI_SRCS) $(CLI_HDRS) $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(BUILD)
	$(CC) $(AIGW_CFLAGS) -Isrc/cli -o $@ $(CLI_SRCS) $(CORE_SRCS) \
	    $(CORE_LIBS) -lcurl -lhiredis


$(BUILD)/unit/%: t/unit/%.c $(wildcard t/unit/*.h) $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(BUILD)/unit
	$(CC) $(AIGW_CFLAGS) -It/unit -o $@ $< $(CORE_SRCS) $(CORE_LIBS)


deps:
	@if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	$$sudo env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q --no-install-recommends $(DEBIAN_PKGS)


# what "make demo" needs; "make deps" installs whatever is missing
DEMO_NEEDS = test -x $(NGINX_BIN) && test -f $(NGINX_SRC)/auto/module \
             && command -v redis-server && command -v redis-cli \
             && test -f /usr/include/hiredis/async.h \
             && test -f /usr/include/jansson.h \
             && $(PYTHON) -c 'import botocore'

demo:
	@( $(DEMO_NEEDS) ) >/dev/null 2>&1 || $(MAKE) deps
	@$(MAKE) --no-print-directory all >/dev/null
	$(PYTHON) t/demo.py


test: all unit integration

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# not a test: the event-stream decoder's throughput next to CRC32's
# the benchmarks: ratios against a baseline run in the same process
bench: bench-decode bench-sign bench-gateway

bench-gateway: all
	$(PYTHON) t/bench/bench_gateway.py

bench-decode: t/bench/bench_decode.c t/unit/es_test_util.h $(CORE_SRCS) \
              $(CORE_HDRS)
	@mkdir -p $(BUILD)/bench
	$(CC) $(AIGW_CFLAGS) -O2 -It/unit -o $(BUILD)/bench/bench_decode $< \
	    $(CORE_SRCS) $(CORE_LIBS)
	$(BUILD)/bench/bench_decode

# the core's per-request hashing and signing next to SHA-256 of the body;
# with valgrind, callgrind's count of instructions per request of each
BENCH_SIGN_CG  = 2000

bench-sign: t/bench/bench_sign.c $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(BUILD)/bench
	$(CC) $(AIGW_CFLAGS) -O2 -o $(BUILD)/bench/bench_sign $< \
	    $(CORE_SRCS) $(CORE_LIBS)
	$(BUILD)/bench/bench_sign
	@command -v valgrind >/dev/null || exit 0; \
	for f in base request; do \
	    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
	        --toggle-collect=bench_$${f}_loop \
	        $(BUILD)/bench/bench_sign $(BENCH_SIGN_CG) 2>&1 >/dev/null \
	    | awk -v f=$$f -v n=$(BENCH_SIGN_CG) '/Collected :/ { \
	        printf "callgrind, %s: %.0f instructions per request\n", \
	               f, $$4 / n }'; \
	done

integration: all fetch-test
	cd t && AIGW_BUILD=$(CURDIR)/$(BUILD) NGINX_BIN=$(NGINX_BIN) \
	    $(PYTHON) -m pytest -q $(PYTEST_ARGS)

test-valgrind: all fetch-test
	cd t && AIGW_BUILD=$(CURDIR)/$(BUILD) NGINX_BIN=$(NGINX_BIN) \
	    AIGW_VALGRIND=1 $(PYTHON) -m pytest -q $(PYTEST_ARGS)

# libFuzzer targets (clang, libclang-rt-dev), the core built with
# AddressSanitizer and UndefinedBehaviorSanitizer, every report fatal.
# Each target runs FUZZ_SECONDS on its corpus: build/fuzz/corpus/NAME
# (what the runs found, kept), t/fuzz/seeds/NAME, and seeds made from
# the shared test data when present (AIGW_TESTDATA, ../shared/testdata).
# A crash, leak, report or oracle mismatch fails it; the input is saved
# as build/fuzz/crashes/NAME-crash-* (or leak-, timeout-, oom-).
FUZZ_PKGS       = clang libclang-rt-dev
FUZZ_CC        ?= $(shell command -v clang-14 || command -v clang || echo clang)
FUZZ_SECONDS   ?= 60
FUZZ_ARGS      ?=
FUZZ_TARGETS   ?= $(patsubst t/fuzz/fuzz_%.c,%,$(wildcard t/fuzz/fuzz_*.c))
FUZZ_SAN        = -fsanitize=address,undefined -fno-sanitize-recover=all \
                  -fno-omit-frame-pointer
FUZZ_CFLAGS     = -g -O1 -std=gnu99 -Wall -Wextra -Wpointer-arith \
                  -Wno-unused-parameter -Werror $(FUZZ_SAN) -Isrc/core \
                  -I$(LUA_GEN_DIR)
FUZZ_OBJS       = $(patsubst src/core/%.c,$(BUILD)/fuzz/obj/%.o,$(CORE_SRCS))
FUZZ_BINS       = $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))

$(BUILD)/fuzz/obj/%.o: src/core/%.c $(CORE_HDRS)
	@command -v $(FUZZ_CC) >/dev/null || { \
	    echo "no $(FUZZ_CC): make fuzz-deps ($(FUZZ_PKGS))"; exit 1; }
	@mkdir -p $(BUILD)/fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(BUILD)/fuzz/fuzz_%: t/fuzz/fuzz_%.c $(wildcard t/fuzz/*.h) \
                      t/unit/es_test_util.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -It/unit -o $@ $< \
	    $(FUZZ_OBJS) $(CORE_LIBS)

# the core objects are kept for the next target
.SECONDARY: $(FUZZ_OBJS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@mkdir -p $(BUILD)/fuzz/crashes
	@$(PYTHON) t/fuzz/seeds.py $(BUILD)/fuzz/testdata $(FUZZ_TARGETS)
	@failed=; for t in $(FUZZ_TARGETS); do \
	    echo "== fuzz_$$t: $(FUZZ_SECONDS) s"; \
	    mkdir -p $(BUILD)/fuzz/corpus/$$t $(BUILD)/fuzz/testdata/$$t; \
	    if $(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	        -timeout=30 -max_len=65536 -print_final_stats=1 \
	        -artifact_prefix=$(BUILD)/fuzz/crashes/$$t- $(FUZZ_ARGS) \
	        $(BUILD)/fuzz/corpus/$$t t/fuzz/seeds/$$t \
	        $(BUILD)/fuzz/testdata/$$t 2>$(BUILD)/fuzz/$$t.log; \
	    then \
	        sed -n 's/^stat::number_of_executed_units: */  runs: /p' \
	            $(BUILD)/fuzz/$$t.log; \
	    else \
	        tail -n 40 $(BUILD)/fuzz/$$t.log; \
	        echo "fuzz_$$t FAILED: log $(BUILD)/fuzz/$$t.log"; \
	        failed="$$failed $$t"; \
	    fi; \
	done; \
	if [ -n "$$failed" ]; then \
	    echo "fuzz: failed:$$failed; inputs in $(BUILD)/fuzz/crashes"; \
	    exit 1; \
	fi

# CI's regression run: a fixed seed, so that a red run is this change's
# doing and replays the same way; make fuzz explores with a new seed
fuzz-smoke:
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10 \
	    FUZZ_ARGS="-seed=1 $(FUZZ_ARGS)"

fuzz-deps:
	@if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	$$sudo env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q --no-install-recommends $(FUZZ_PKGS)

# nginx from Debian's source package of the installed version (fetched,
# checked and configured once by t/asan/build-nginx.sh, which says how),
# with AddressSanitizer and UndefinedBehaviorSanitizer, the module compiled
# in; "make" in its tree rebuilds only what changed
ASAN_BUILD     = $(BUILD)/asan
ASAN_NGINX     = $(ASAN_BUILD)/sbin/nginx
ASAN_NEEDS     = test -x /usr/sbin/nginx && command -v dpkg-source \
                 && command -v xz && command -v llvm-symbolizer \
                 && test -f /usr/include/hiredis/async.h \
                 && test -f /usr/include/jansson.h \
                 && echo 'int main(void) { return 0; }' \
                    | clang -fsanitize=address,undefined -x c - -o /dev/null

deps-asan: deps
	@if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	$$sudo env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q --no-install-recommends $(ASAN_PKGS)

$(ASAN_BUILD)/.configured: t/asan/build-nginx.sh config $(FETCH_TEST_DIR)/config \
                           $(BUILD)/sources.list
	@( $(ASAN_NEEDS) ) >/dev/null 2>&1 || $(MAKE) deps-asan
	t/asan/build-nginx.sh $(CURDIR) $(ASAN_BUILD)
	touch $@

$(ASAN_NGINX): $(ASAN_BUILD)/.configured $(CORE_SRCS) $(CORE_HDRS) $(NGX_SRCS) \
               $(FETCH_TEST_SRCS)
	$(call LUA_EMBED,$(ASAN_BUILD)/src/nginx/$(NGX_LUA_GEN))
	$(MAKE) -j$(shell nproc) -C $(ASAN_BUILD)/src/nginx -f objs/Makefile \
	    >$(ASAN_BUILD)/make.log 2>&1 || { \
	    grep -E -B2 -A10 'error|Error' $(ASAN_BUILD)/make.log | head -80; \
	    exit 1; }
	@mkdir -p $(ASAN_BUILD)/sbin
	cp $(ASAN_BUILD)/src/nginx/objs/nginx $@.tmp
	mv -f $@.tmp $@

asan: $(ASAN_NGINX)

# AIGW_ASAN: each nginx writes its sanitizers' reports into its prefix, and
# a test whose nginx left one fails
test-asan: $(ASAN_NGINX) cli
	cd t && AIGW_BUILD=$(CURDIR)/$(BUILD) \
	    NGINX_BIN=$(CURDIR)/$(ASAN_NGINX) AIGW_STATIC_MODULE=1 \
	    AIGW_ASAN=1 $(PYTHON) -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(BUILD)
	find t -name __pycache__ -prune -exec rm -rf {} +
