#!/usr/bin/env bash
# Installs what is missing, builds kcb and runs the whole test suite (ctest).
# KCB_SANITIZE=ON builds and tests with AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --test
sanitize=${KCB_SANITIZE:-OFF}
build=build
[ "$sanitize" = ON ] && build=build-sanitize
cmake -S . -B "$build" -DKCB_SANITIZE="$sanitize" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build" && ctest --output-on-failure -j2
