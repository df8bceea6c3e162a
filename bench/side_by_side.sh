#!/usr/bin/env bash
# Runs a workload with civet and with the PyTorch eager reference in one go and prints both
# with the ratio. Needs Debian's python3-torch (and python3-torchvision for model workloads).
#   bash bench/side_by_side.sh op-overhead
#   bash bench/side_by_side.sh vit-ti32 --batch 64 --steps 10
#   PYTHON=python3 bash bench/side_by_side.sh vit-ti32 --device cuda --batch 256   (GPU machine)
#   bash bench/side_by_side.sh deit-step --batch 16 --classes 100 --cache
# --cache (civt-step, deit-step): civet replays its teachers from a warmed teacher-output cache,
# PyTorch runs its live teacher (the reference a user has); both front ends' student-only steps
# (--student-only: teacher outputs fixed, a free teacher) are printed too, so the distance to the
# limit is visible.
set -euo pipefail
cd "$(dirname "$0")/.."
w=${1:?usage: bench/side_by_side.sh WORKLOAD [--batch B] [--steps N] [--threads T] [--device D]}; shift
ref=bench/reference/torch_bench.py
case " $* " in *" --device "*) ref=bench/reference/torch_bench_device.py ;; esac
# ROUNDS=N alternates the two front ends N times and keeps each one's best run: on a shared,
# noisy machine the best of several is the figure least disturbed by other work.
rounds=${ROUNDS:-1}
best() { node -e 'const a=process.argv.slice(1).map(JSON.parse); const k=a[0].images_per_s!==undefined?"images_per_s":"ns_per_op"; a.sort((x,y)=>k==="ns_per_op"?x[k]-y[k]:y[k]-x[k]); const b=a[0]; b.rounds=a.length; b.all=a.map(x=>+x[k].toFixed(2)); console.log(JSON.stringify(b));' "$@"; }
cache=0; args=()
for a in "$@"; do if [ "$a" = --cache ]; then cache=1; else args+=("$a"); fi; done
# the reference prints no memory figure: measure its peak resident set with GNU time
torch_run() {
  local out rss
  out=$(/usr/bin/time -f 'RSS_KB=%M' ${PYTHON:-/usr/bin/python3} "$ref" --workload "$w" "$@" 2>/tmp/civet-sbs-time.$$)
  rss=$(grep -o 'RSS_KB=[0-9]*' /tmp/civet-sbs-time.$$ | cut -d= -f2); rm -f /tmp/civet-sbs-time.$$
  node -e 'const o=JSON.parse(process.argv[1]); if (process.argv[2]) o.peak_rss_mb=Math.round(process.argv[2]/1024); console.log(JSON.stringify(o));' "$out" "${rss:-}"
}
cs=(); ts=(); cso=(); tso=()
for ((r = 0; r < rounds; r++)); do
  if ((cache)); then cs+=("$(${NODE:-node} bin/civet bench "$w" --json --cache "${args[@]}")"); else cs+=("$(${NODE:-node} bin/civet bench "$w" --json "${args[@]}")"); fi
  ts+=("$(torch_run "${args[@]}")")
  if ((cache)); then
    cso+=("$(${NODE:-node} bin/civet bench "$w" --json --student-only "${args[@]}")")
    tso+=("$(torch_run --student-only "${args[@]}")")
  fi
done
for j in "${cs[@]}" "${ts[@]}" "${cso[@]}" "${tso[@]}"; do echo "run: $j" >&2; done
civet=$(best "${cs[@]}")
torch=$(best "${ts[@]}")
if ((cache)); then civet_so=$(best "${cso[@]}"); torch_so=$(best "${tso[@]}"); else civet_so=null; torch_so=null; fi
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
const cso = JSON.parse(process.argv[3]), tso = JSON.parse(process.argv[4]);
if (cso && tso) {
  // the student-only step: the limit a cache approaches (a free teacher)
  console.log(`\nstudent-only step (teacher outputs fixed: the limit of a cache)`);
  console.log(`${"images_per_s".padEnd(18)} ${String(+cso.images_per_s.toFixed(2)).padStart(14)} ${String(+tso.images_per_s.toFixed(2)).padStart(14)}  ${(cso.images_per_s / tso.images_per_s).toFixed(3)}`);
  console.log(`${"step_ms_median".padEnd(18)} ${String(+cso.step_ms_median.toFixed(2)).padStart(14)} ${String(+tso.step_ms_median.toFixed(2)).padStart(14)}`);
  console.log(`cached civet vs PyTorch live teacher: ${speed.toFixed(2)}x; limit at the civet student-only step ${(cso.images_per_s / t.images_per_s).toFixed(2)}x, at the PyTorch one ${(tso.images_per_s / t.images_per_s).toFixed(2)}x; cached civet reaches ${(100 * c.images_per_s / cso.images_per_s).toFixed(0)}% of the civet student-only rate`);
}
' "$civet" "$torch" "$civet_so" "$torch_so"
