# Talon build.  GNU Make + pkg-config, C17.
#   make            release build  -> build/talon
#   make asan       ASan+UBSan     -> build-asan/talon (what the tests use)
#   make test       unit + integration + short fuzz runs, under sanitizers
#   make fuzz       libFuzzer harnesses -> build-fuzz/fuzz_*, long runs
#   make demo       install deps if missing, build, start the demo
# libunbound and libpsl are linked directly: Debian's libunbound.pc names
# libevent (not installed) in Requires.private, which makes pkg-config fail
PKGS      := openssl
CC        ?= cc
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -lunbound -lpsl -lsqlite3 -lcrypt -lz -pthread
WARN      := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
BASEFLAGS := -std=c17 -D_GNU_SOURCE -pthread -Isrc $(WARN) $(PKG_CFLAGS)

SRC_LIB   := $(sort $(wildcard src/*/*.c))
SRC_LIB   := $(filter-out src/cli/main.c,$(SRC_LIB))
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC  := $(sort $(wildcard fuzz/fuzz_*.c))

# --- release -------------------------------------------------------------
REL_CFLAGS := $(BASEFLAGS) -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2
REL_OBJ    := $(SRC_LIB:%.c=build/%.o)

all: build/talon

build/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -MMD -MP -c $< -o $@

build/talon: $(REL_OBJ) build/src/cli/main.o
	$(CC) $(REL_CFLAGS) -o $@ $^ $(PKG_LIBS)

# --- sanitizers ----------------------------------------------------------
SAN        := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
ASAN_CFLAGS:= $(BASEFLAGS) -O1 -g $(SAN)
ASAN_OBJ   := $(SRC_LIB:%.c=build-asan/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=build-asan/unit/%)

asan: build-asan/talon $(UNIT_BIN)

build-asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -MMD -MP -c $< -o $@

build-asan/talon: $(ASAN_OBJ) build-asan/src/cli/main.o
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(PKG_LIBS)

build-asan/unit/%: tests/unit/%.c $(ASAN_OBJ) tests/unit/t.h
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -Itests/unit -o $@ $< $(ASAN_OBJ) $(PKG_LIBS)

# --- fuzzing (clang + libFuzzer) -------------------------------------------
FUZZ_CC     := clang
FUZZ_CFLAGS := $(BASEFLAGS) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_OBJ    := $(SRC_LIB:%.c=build-fuzz/%.o)
FUZZ_BIN    := $(FUZZ_SRC:fuzz/%.c=build-fuzz/%)
FUZZ_TIME   ?= 15

build-fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

build-fuzz/fuzz_%: fuzz/fuzz_%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(PKG_LIBS)

fuzz-build: $(FUZZ_BIN)

# long campaigns, outside CI
fuzz: $(FUZZ_BIN)
	scripts/fuzz.sh $(or $(FUZZ_LONG),600) $(FUZZ_BIN)

fuzz-short: $(FUZZ_BIN)
	scripts/fuzz.sh $(FUZZ_TIME) $(FUZZ_BIN)

# --- tests -----------------------------------------------------------------
unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

integration: build-asan/talon build/talon
	TALON_BIN=$(CURDIR)/build-asan/talon /usr/bin/python3 -m pytest -q --timeout=300 tests/integration

# deps first: on a fresh machine the compilers and libraries may be missing
test:
	scripts/install-deps.sh
	$(MAKE) asan build/talon
	scripts/test.sh

deps:
	scripts/install-deps.sh

demo:
	scripts/demo.sh

clean:
	rm -rf build build-asan build-fuzz

.PHONY: all asan unit integration test fuzz fuzz-build fuzz-short deps demo clean
-include $(shell find build build-asan build-fuzz -name '*.d' 2>/dev/null)
