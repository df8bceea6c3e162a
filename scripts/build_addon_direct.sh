#!/usr/bin/env bash
# Builds the addon with g++ directly (no node-gyp), for machines that have a libtorch and Node's
# N-API headers but no npm toolchain, e.g. a GPU box with a pip CUDA wheel:
#   LIBTORCH=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))') \
#   NAPI_INCLUDE=/path/to/node/headers bash scripts/build_addon_direct.sh
set -euo pipefail
cd "$(dirname "$0")/.."
NODE=${NODE:-node}
inc=$($NODE native/libtorch.js include)
defs=$($NODE native/libtorch.js defines)
libs=$($NODE native/libtorch.js libs)
mkdir -p native/build/Release
flags=(-std=c++17 -O2 -fPIC -shared -fvisibility=hidden -Wno-deprecated-declarations -D"$defs" -DNAPI_VERSION=8)
[ -n "${NAPI_INCLUDE:-}" ] && flags+=(-I"$NAPI_INCLUDE")
for d in $inc; do flags+=(-I"$d"); done
pids=()
for f in native/src/*.cc; do
  g++ "${flags[@]}" -c "$f" -o "native/build/Release/$(basename "$f" .cc).o" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
g++ -shared -o native/build/Release/civet.node native/build/Release/*.o $libs
echo "built native/build/Release/civet.node against ${LIBTORCH:-Debian libtorch}"
