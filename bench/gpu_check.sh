#!/usr/bin/env bash
# One short check for a GPU machine (issue 13): builds the addon against the libtorch bundled
# with a CUDA PyTorch wheel, runs the conformance files, then the four side-by-side workloads
# on cuda and prints civet's images/s over PyTorch eager's for each (goal ≥ 0.95).
#   LIBTORCH=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))') bash bench/gpu_check.sh
#   bash bench/gpu_check.sh --dry-run     print what would run, run nothing
#   bash bench/gpu_check.sh --cpu         the same sequence on the CPU, few steps (tests the script itself)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=cuda
case "${1:-}" in --dry-run) mode=dry ;; --cpu) mode=cpu ;; "") ;; *) echo "usage: bench/gpu_check.sh [--dry-run|--cpu]" >&2; exit 2 ;; esac
if [ "$mode" = cuda ] && [ -z "${LIBTORCH:-}" ]; then
  echo "gpu_check: set LIBTORCH to a CUDA wheel's torch/ folder (it holds include/ and lib/)" >&2; exit 2
fi
# on the CPU no --device: side_by_side.sh then uses torch_bench.py, which has all four workloads
devarg=(--device cuda); [ "$mode" = cpu ] && devarg=()
# workload, then the arguments both front ends get (batch sizes a GPU keeps busy; the CPU mode
# keeps each under a minute)
if [ "$mode" = cpu ]; then
  rows=("vit-ti32 --batch 8 --steps 2" "resnet18-32 --batch 8 --steps 2" "civt-step --batch 8 --steps 2" "deit-step --batch 2 --steps 1 --classes 100")
else
  # civt-step and deit-step are not in bench/reference/torch_bench_device.py yet (its build()
  # knows the single-model workloads only): they join this list when it has them
  rows=("vit-ti32 --batch 256 --steps 20" "resnet18-32 --batch 256 --steps 20")
fi
run() { echo "+ $*"; [ "$mode" = dry ] || "$@"; }
if [ "$mode" != cpu ]; then run npm run build:native; fi
run npx tsc -p tsconfig.json
run env OMP_NUM_THREADS=1 node --test --test-reporter=dot dist/src/conformance/conformance.test.js
summary=()
for row in "${rows[@]}"; do
  # shellcheck disable=SC2086
  if [ "$mode" = dry ]; then run bash bench/side_by_side.sh $row "${devarg[@]}"; continue; fi
  # shellcheck disable=SC2086
  out=$(bash bench/side_by_side.sh $row "${devarg[@]}" | tee /dev/stderr)
  summary+=("$(printf '%-12s %s' "${row%% *}" "$(grep -o 'PyTorch eager: [0-9.]*x' <<<"$out" | cut -d' ' -f3)")")
done
if [ "$mode" != dry ]; then
  echo; echo "civet images/s relative to PyTorch eager on ${devarg[1]:-cpu} (goal >= 0.95x on cuda):"
  printf '  %s\n' "${summary[@]}"
fi
