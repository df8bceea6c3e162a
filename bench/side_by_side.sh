#!/usr/bin/env bash
# Runs a workload with civet and with the PyTorch eager reference in one go and prints both
# with the ratio. Needs Debian's python3-torch (and python3-torchvision for model workloads).
#   bash bench/side_by_side.sh op-overhead
#   bash bench/side_by_side.sh vit-ti32 --batch 64 --steps 10
#   PYTHON=python3 bash bench/side_by_side.sh vit-ti32 --device cuda --batch 256   (GPU machine)
set -euo pipefail
cd "$(dirname "$0")/.."
w=${1:?usage: bench/side_by_side.sh WORKLOAD [--batch B] [--steps N] [--threads T] [--device D]}; shift
ref=bench/reference/torch_bench.py
case " $* " in *" --device "*) ref=bench/reference/torch_bench_device.py ;; esac
# ROUNDS=N alternates the two front ends N times and keeps each one's best run: on a shared,
# noisy machine the best of several is the figure least disturbed by other work.
rounds=${ROUNDS:-1}
best() { node -e 'const a=process.argv.slice(1).map(JSON.parse); const k=a[0].images_per_s!==undefined?"images_per_s":"ns_per_op"; a.sort((x,y)=>k==="ns_per_op"?x[k]-y[k]:y[k]-x[k]); const b=a[0]; b.rounds=a.length; b.all=a.map(x=>+x[k].toFixed(2)); console.log(JSON.stringify(b));' "$@"; }
cs=(); ts=()
for ((r = 0; r < rounds; r++)); do
  cs+=("$(${NODE:-node} bin/civet bench "$w" --json "$@")")
  # the reference prints no memory figure: measure its peak resident set with GNU time
  out=$(/usr/bin/time -f 'RSS_KB=%M' ${PYTHON:-/usr/bin/python3} "$ref" --workload "$w" "$@" 2>/tmp/civet-sbs-time.$$)
  rss=$(grep -o 'RSS_KB=[0-9]*' /tmp/civet-sbs-time.$$ | cut -d= -f2); rm -f /tmp/civet-sbs-time.$$
  ts+=("$(node -e 'const o=JSON.parse(process.argv[1]); if (process.argv[2]) o.peak_rss_mb=Math.round(process.argv[2]/1024); console.log(JSON.stringify(o));' "$out" "${rss:-}")")
done
civet=$(best "${cs[@]}")
torch=$(best "${ts[@]}")
node -e '
const c = JSON.parse(process.argv[1]), t = JSON.parse(process.argv[2]);
const keys = [...new Set([...Object.keys(c), ...Object.keys(t)])];
console.log(`${"key".padEnd(18)} ${"civet".padStart(14)} ${"pytorch".padStart(14)}  ratio (civet/pytorch)`);
for (const k of keys) {
  const a = c[k], b = t[k];
  const r = typeof a === "number" && typeof b === "number" && b !== 0 ? (a / b).toFixed(3) : "";
  const f = (x) => x === undefined ? "-" : typeof x === "number" ? String(+x.toFixed(2)) : Array.isArray(x) ? x.join("+") : String(x);
  console.log(`${k.padEnd(18)} ${f(a).padStart(14)} ${f(b).padStart(14)}  ${r}`);
}
const speed = c.images_per_s !== undefined ? c.images_per_s / t.images_per_s : t.ns_per_op / c.ns_per_op;
console.log(`\ncivet speed relative to PyTorch eager: ${speed.toFixed(2)}x (higher is better)`);
' "$civet" "$torch"
