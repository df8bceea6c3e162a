#!/usr/bin/env bash
# civet set-up: installs what is missing and builds. Idempotent: a second run does only what
# changed. Used by both README commands and by .ci/run.
#   Debian packages: libtorch-dev (libtorch 1.13, CPU), libgloo-dev (gloo headers for c10d, native/src/dist.cc), libopenblas0-openmp (mandatory: Debian's
#   reference BLAS made a ViT step 30x slower), dataset-fashion-mnist (the embedded default data),
#   build tools, chromium (HTML report tests).
#   LIBTORCH=/path/to/libtorch builds against that distribution instead (e.g. a CUDA wheel's torch/).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*" >&2; }

pkgs=(libtorch-dev libgloo-dev libopenblas0-openmp dataset-fashion-mnist build-essential python3 chromium)
[ -n "${LIBTORCH:-}" ] && pkgs=(libopenblas0-openmp dataset-fashion-mnist build-essential python3 chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# OpenBLAS must be the BLAS libtorch sees (the alternatives system may point at reference BLAS).
blas=/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
if [ -e "$blas" ] && [ "$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null)" != "$(readlink -f $blas)" ]; then
  say "selecting OpenBLAS as libblas.so.3"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO update-alternatives --set libblas.so.3-x86_64-linux-gnu "$blas" >/dev/null
fi

# npm dependencies, only when the lock file changed since the last install.
stamp=node_modules/.civet-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "npm ci"
  # onnxruntime-node's install script would download an optional CUDA build (no network here);
  # its CPU binaries ship inside the package.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# The addon, only when its sources or the libtorch it builds against changed.
addon=native/build/Release/civet.node
nstamp=native/build/.civet-src-hash
nwant=$( (cat native/binding.gyp native/libtorch.js native/src/*; echo "${LIBTORCH:-debian}") | sha256sum | cut -d' ' -f1)
if [ ! -f "$addon" ] || [ ! -f "$nstamp" ] || [ "$(cat "$nstamp")" != "$nwant" ]; then
  say "building the native addon (about a minute)"
  npm run --silent build:native >/tmp/civet-native-build.log 2>&1 || { cat /tmp/civet-native-build.log >&2; exit 1; }
  echo "$nwant" > "$nstamp"
fi

say "compiling TypeScript"
npx tsc -p tsconfig.json
say "ready"
