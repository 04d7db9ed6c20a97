#!/usr/bin/env bash
# Runs a short profile of the whole benchmark suite on this machine and rewrites the generated tables of
# docs/performance.md (between <!-- bench:NAME --> markers). CUDA is used automatically when TorchSharp sees a GPU.
#   bash benchmarks/run-profile.sh            # everything (about 20-30 minutes on 2 CPU cores)
#   bash benchmarks/run-profile.sh '*Attention*' '*Encoder*'   # some suites
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then set -- '*'; fi
artifacts=benchmarks/artifacts
rm -rf "$artifacts"
dotnet build -c Release benchmarks/Bert.Sharp.Benchmarks >/dev/null
run() { dotnet run -c Release --no-build --project benchmarks/Bert.Sharp.Benchmarks -- "$@"; }
run --filter "$@" --job short --exporters github --artifacts "$artifacts"
mkdir -p "$artifacts/results"
if [[ " $* " == *" * "* || "$*" == *Attention* ]]; then
  run attention-memory "$artifacts/results/AttentionMemory.md"
fi
run update-docs "$artifacts/results" docs/performance.md
