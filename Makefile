# Sluice: the two commands are `make demo` and `make test`. This Makefile only
# wraps scripts/bootstrap and CMake; `make` is the only prerequisite.
MAKEFLAGS += --no-print-directory
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
BUILD     ?= build
ASAN      ?= build-asan
CTEST_ARGS ?= --output-on-failure --timeout 600 -j $(JOBS)

.PHONY: all bootstrap build release asan test test-fast test-asan tsan tsan-build demo format lint bench bench-pgcdc bench-kafka clean

all: build

bootstrap:
	@scripts/bootstrap

# The default build: optimised with debug info, warnings are errors.
build: bootstrap
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

release: bootstrap
	@cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build-release -j $(JOBS)

asan: bootstrap
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)

# ThreadSanitizer over the multi-worker tests (librdkafka-free binaries only).
tsan-build: bootstrap
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DSLUICE_TSAN=ON >/dev/null
	@cmake --build build-tsan -j $(JOBS)

tsan: tsan-build
	@cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest $(CTEST_ARGS) -L tsan

test-fast: build
	@cd $(BUILD) && ctest $(CTEST_ARGS)

test-asan: asan
	@cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_ARGS)

# Everything CI runs: the -Werror build's suite, the same suite under
# ASan+UBSan, and the multi-worker tests under ThreadSanitizer.
test: build asan tsan-build
	@echo "== test suite (RelWithDebInfo, -Werror) =="
	@cd $(BUILD) && ctest $(CTEST_ARGS)
	@echo "== test suite (ASan + UBSan) =="
	@cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_ARGS)
	@echo "== multi-worker tests (ThreadSanitizer) =="
	@cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest $(CTEST_ARGS) -L tsan

demo: release
	@scripts/demo build-release

bench: release
	@build-release/sluice-bench core

# PostgreSQL CDC (sluice-bench pgcdc) against pg_recvlogical and a subscriber;
# BENCH_ARGS=--quick for a one-minute smoke run.
bench-pgcdc: release
	@scripts/bench-pgcdc build-release $(BENCH_ARGS)

# Debezium JSON and Avro from Kafka (sluice-bench kafka) against kcat;
# BENCH_ARGS=--quick for a smoke run.
bench-kafka: release
	@scripts/bench-kafka build-release $(BENCH_ARGS)

format:
	@cmake -S . -B $(BUILD) >/dev/null && cmake --build $(BUILD) --target format

lint: bootstrap
	@cmake -S . -B $(BUILD) >/dev/null && cmake --build $(BUILD) --target lint

clean:
	rm -rf $(BUILD) $(ASAN) build-release build-tsan
