#!/usr/bin/env bash
# The GPU check, in one run on a machine with an accelerator (the device tool, or a Lambda node
# via `deepconf nodes ssh NAME -- bash deepconf/app/scripts/device-check.sh`). Needs a checkout
# with `npm ci` done. Writes everything under ${OUT:-./device-check}:
#   gpu.txt          nvidia-smi
#   providers.json   which onnxruntime backends load, and greedy parity with the CPU path
#   bench-<dev>.json npm run bench:run --json at R = 8..256 on each device that loads
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-./device-check}"
mkdir -p "$out"
nvidia-smi > "$out/gpu.txt" 2>&1 || echo "no nvidia-smi" > "$out/gpu.txt"
# The CUDA provider's files are not in the CPU-only install; fetch them if the network allows.
npm run --silent install:cuda > "$out/install-cuda.log" 2>&1 || echo "install:cuda failed (see install-cuda.log)"
npx tsx scripts/device-parity.ts > "$out/providers.json" 2> "$out/providers.err"
cat "$out/providers.json"
for device in cuda webgpu; do
  if grep -q "\"$device\":{\"loaded\":true" "$out/providers.json"; then
    npx tsx scripts/bench-run.ts --device "$device" --rows 8,32,64,128,256 --instances 32 --json \
      > "$out/bench-$device.json" 2> "$out/bench-$device.err"
    cat "$out/bench-$device.json"
  fi
done
