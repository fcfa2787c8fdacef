#!/usr/bin/env bash
# Installs what is missing, builds kcb and trains the default model on Fashion-MNIST.
# Extra arguments go to kcb-train (see build/tools/kcb-train --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target kcb-train
./build/tools/kcb-train "$@"
