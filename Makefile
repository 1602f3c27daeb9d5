# Cairn: the two commands a new user needs are `make run` and `make test` (see README.md).
# Every target installs what it needs first (scripts/install-deps.sh is idempotent and quick when
# everything is present).

SHELL := /bin/bash
BUILD ?= build
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 20
CMAKE_COMMON := -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON

.PHONY: all deps build debug asan run demo test test-release test-integration test-asan test-tsan \
        fuzz format format-check lint bench clean help

all: build

help:
	@echo "make run          install, build and start Cairn: cairn server (SQLite, local disk)"
	@echo "                  with state in DATA=$(DATA), on LISTEN=$(LISTEN)"
	@echo "make demo         a tour of the format tools"
	@echo "make test         install, build, and run every check: unit tests (Release and"
	@echo "                  ASan+UBSan), fuzzers, format and layering checks"
	@echo "make build        Release build in $(BUILD)/release (the binary: $(BUILD)/release/cairn)"
	@echo "make bench        benchmarks against openssl md5 (results: docs/benchmarks.md)"
	@echo "make format       reformat the C++ sources with clang-format"

deps:
	@scripts/install-deps.sh

$(BUILD)/release/build.ninja:
	cmake -S . -B $(BUILD)/release $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release

$(BUILD)/asan/build.ninja:
	CXX=clang++ cmake -S . -B $(BUILD)/asan $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug \
	  -DCAIRN_SANITIZE=ON -DCAIRN_FUZZ=ON -DCAIRN_BENCHMARKS=OFF

$(BUILD)/tsan/build.ninja:
	CXX=clang++ cmake -S . -B $(BUILD)/tsan $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug \
	  -DCAIRN_TSAN=ON -DCAIRN_BENCHMARKS=OFF

$(BUILD)/debug/build.ninja:
	cmake -S . -B $(BUILD)/debug $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug

build: deps $(BUILD)/release/build.ninja
	cmake --build $(BUILD)/release -j $(JOBS)

debug: deps $(BUILD)/debug/build.ninja
	cmake --build $(BUILD)/debug -j $(JOBS)

asan: deps $(BUILD)/asan/build.ninja
	cmake --build $(BUILD)/asan -j $(JOBS)

# `make run`: Cairn on this machine, the embedded default (catalog on SQLite, one keepstore on
# a local directory), all state in $(DATA), in the foreground until Ctrl-C.
DATA ?= $(HOME)/cairn-data
LISTEN ?= 127.0.0.1:9100
run: build
	$(BUILD)/release/cairn server --data $(DATA) --listen $(LISTEN)

# The tour of the format tools on a small collection (no server needed).
demo: build
	@scripts/demo.sh $(BUILD)/release/cairn

test: deps format-check lint test-release test-integration test-asan test-tsan fuzz
	@echo "make test: all checks passed"

test-release: build
	ctest --test-dir $(BUILD)/release --output-on-failure -j $(JOBS) -LE integration
	scripts/cli-test.sh $(BUILD)/release/cairn
	python3 tests/crosscheck/arvados_crosscheck.py $(BUILD)/release/cairn

test-asan: asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ctest --test-dir $(BUILD)/asan --output-on-failure -j $(JOBS) -LE integration
	ASAN_OPTIONS=detect_leaks=1 scripts/cli-test.sh $(BUILD)/asan/cairn

# Real servers (Ceph RGW) started by scripts/object-store; stopped again whatever happens.
test-integration: build
	scripts/integration-test.sh $(BUILD)/release

# ThreadSanitizer on the modules that run threads (common's pools and queues, the HTTP client,
# the retry budget, the S3 lister).
TSAN_TESTS := common_test http_test objstore_test objstore_s3_test objstore_transfer_test client_test httpd_test blockstore_test sql_test metadata_test objstore_mpu_test objstore_swift_test objstore_fs_test mount_test
test-tsan: deps $(BUILD)/tsan/build.ninja
	cmake --build $(BUILD)/tsan -j $(JOBS) --target $(TSAN_TESTS)
	for t in $(TSAN_TESTS); do \
	  TSAN_OPTIONS=halt_on_error=1 $$(find $(BUILD)/tsan -name $$t -type f -perm -u+x) || exit 1; \
	done

fuzz: asan
	@scripts/run-fuzzers.sh $(BUILD)/asan $(FUZZ_SECONDS)

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

format-check:
	@scripts/check-format.sh

lint:
	@python3 scripts/check-layers.py

bench: build
	@bench/run.sh $(BUILD)/release

clean:
	rm -rf $(BUILD)
