# Thin wrapper over CMake: the README's two commands (make run, make test) and the extra suites.
BUILD      ?= build
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
CTEST_ARGS ?=

.PHONY: all bootstrap configure build run test test-asan test-tsan test-faults stress fuzz-smoke bench \
        format format-check clean

all: build

bootstrap:
	@scripts/bootstrap.sh

configure: bootstrap
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The main job on the embedded default: export the program information to the store, then
# watch the simulator's events for a few seconds.
RUN_SECONDS ?= 3
run: build
	@$(BUILD)/bin/netevent_ebpf_ext_export_program_info
	@$(BUILD)/bin/neteventmon --duration $(RUN_SECONDS)

test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -LE stress-long $(CTEST_ARGS)

# The same suites under AddressSanitizer + UndefinedBehaviorSanitizer, and ThreadSanitizer.
test-asan: bootstrap
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DEBPF_SANITIZER=address >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir build-asan --output-on-failure -j $(JOBS) -LE stress-long $(CTEST_ARGS)

test-tsan: bootstrap
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEBPF_SANITIZER=thread >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
		ctest --test-dir build-tsan --output-on-failure -j $(JOBS) -LE stress-long $(CTEST_ARGS)

# Fault injection over whole flows, every N of the Nth-allocation sweep and every first-use site
# (make test runs the same suite with a sampled first-use check).
test-faults: build
	@EBPF_FAULT_FULL=1 ctest --test-dir $(BUILD) --output-on-failure -L faults $(CTEST_ARGS)

# Longer stress runs (bounded), under ThreadSanitizer.
stress: bootstrap
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEBPF_SANITIZER=thread >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	@NMR_STRESS_SECONDS=30 EBPF_STRESS_SECONDS=30 TSAN_OPTIONS="halt_on_error=1" \
		ctest --test-dir build-tsan --output-on-failure -L stress $(CTEST_ARGS)

# Every libFuzzer target for a bounded time (clang build).
fuzz-smoke: bootstrap
	@cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
		-DEBPF_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz-smoke

# The benchmark (bench/README.md): prints the table and writes bench/results.json.
bench: build
	@$(BUILD)/bin/ebpf_bench

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

format-check:
	@git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

clean:
	@rm -rf build build-asan build-tsan build-fuzz
