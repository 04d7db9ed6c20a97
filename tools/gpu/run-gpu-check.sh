#!/usr/bin/env bash
# The GPU check in one command on the GPU machine (docs/gpu.md, ../shared/gpu/README.md).
# Here, first:   ../shared/gpu/make-bundle.sh benchmarks/Bert.Sharp.Benchmarks/Bert.Sharp.Benchmarks.csproj .gpu-bundle
# There (run):   bash tools/gpu/run-gpu-check.sh            (results under $OUT, else ./gpu-check-results)
# Every step is bounded by `timeout` and writes as it goes, so a crash or a timeout keeps what ran.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-$ROOT/gpu-check-results}"
PY="${PYTHON:-python3}"
mkdir -p "$OUT"
cd "$ROOT"
log() { echo "[run-gpu-check $(date -u +%H:%M:%S)] $*" | tee -a "$OUT/steps.log"; }
export DOTNET_DbgEnableMiniDump=1 DOTNET_EnableCrashReport=1 DOTNET_DbgMiniDumpName="$OUT/core.%d"

log "nvidia-smi"; timeout 30 nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
log "python: torch/transformers"; timeout 60 "$PY" -c 'import torch, transformers; print(torch.__version__, transformers.__version__, torch.cuda.is_available())' > "$OUT/python.txt" 2>&1
log "reference model (transformers BertConfig(), random)"
timeout 180 "$PY" tools/gpu_reference.py --model /tmp/bert-base-ref --out "$OUT/pytorch-reference.md" > "$OUT/pytorch-reference.log" 2>&1
log "pytorch reference exit $?"
log "gpu-check (cuda)"
timeout 1500 bash .gpu-bundle/on-device.sh Bert.Sharp.Benchmarks.dll gpu-check --device cuda --model /tmp/bert-base-ref --out "$OUT/cuda" > "$OUT/gpu-check.log" 2>&1
log "gpu-check exit $?"
cp "$OUT/pytorch-reference.md" "$OUT/cuda/" 2>/dev/null
rm -rf "$OUT/cuda/reference-model" "$OUT/cuda"/trained-* "$OUT/cuda"/resume-* "$OUT/cuda/onnx-source" "$OUT/cuda/model.onnx" 2>/dev/null
ls -la "$OUT"/core.* 2>/dev/null && log "crash dumps present (see *.crashreport.json)"
rm -f "$OUT"/core.[0-9]* 2>/dev/null  # keep only the json crash reports (the dumps are GBs)
log "done: $OUT/cuda/gpu-report.md"
