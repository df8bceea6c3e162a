// Prints the compiler/linker settings binding.gyp needs for libtorch.
// Debian's libtorch-dev by default; the distribution in $LIBTORCH (include/ and lib/, e.g. the
// torch/ folder of a pip wheel, CUDA builds included) when that variable is set.
'use strict';
const fs = require('fs');
const path = require('path');
const { execSync } = require('child_process');

const root = process.env.LIBTORCH;
const what = process.argv[2];

function libdir() { return root ? path.join(root, 'lib') : '/usr/lib/x86_64-linux-gnu'; }

// Builds of libtorch differ in the C++ ABI (pip wheels before 2.7 used the old one). Read it off
// libc10's symbols rather than guessing, so the addon links against either.
function cxx11Abi() {
  if (process.env.CIVET_CXX11_ABI) return process.env.CIVET_CXX11_ABI;
  try {
    const out = execSync(`nm -D --defined-only ${path.join(libdir(), 'libc10.so')} | grep -c __cxx11 || true`).toString().trim();
    return Number(out) > 0 ? '1' : '0';
  } catch { return '1'; }
}

// ProcessGroupNCCL (native/src/dist.cc) is compiled only where all of it exists: a CUDA libtorch
// (libtorch_cuda), its c10d NCCL header, and nccl.h (beside libtorch's headers or under $NCCL_HOME,
// e.g. the nvidia-nccl wheel's nvidia/nccl). Debian's CPU libtorch-dev ships the header alone.
function ncclInclude() {
  const inc = root ? path.join(root, 'include') : '/usr/include';
  for (const d of [process.env.NCCL_HOME && path.join(process.env.NCCL_HOME, 'include'), inc, '/usr/include', '/usr/local/cuda/include']) {
    if (d && fs.existsSync(path.join(d, 'nccl.h'))) return d;
  }
  return null;
}
function hasNccl() {
  const inc = root ? path.join(root, 'include') : '/usr/include';
  return fs.existsSync(path.join(libdir(), 'libtorch_cuda.so')) &&
    fs.existsSync(path.join(inc, 'torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp')) && ncclInclude() !== null;
}

if (what === 'include') {
  const inc = root ? path.join(root, 'include') : '/usr/include';
  const dirs = [inc, path.join(inc, 'torch/csrc/api/include')];
  const nccl = hasNccl() ? ncclInclude() : null;
  if (nccl && !dirs.includes(nccl)) dirs.push(nccl);
  // c10d's reducer.hpp includes a distributed-autograd header Debian's libtorch-dev leaves out;
  // civet's minimal stand-in (native/shim, see the comment there) is used only where it is missing
  if (!fs.existsSync(path.join(inc, 'torch/csrc/distributed/autograd/context/context.h'))) dirs.push(path.join(__dirname, 'shim'));
  console.log(dirs.join(' '));
} else if (what === 'defines') {
  const defs = [`_GLIBCXX_USE_CXX11_ABI=${cxx11Abi()}`];
  if (hasNccl()) defs.push('CIVET_NCCL=1');
  console.log(defs.join(' '));
} else if (what === 'libs') {
  const dir = libdir();
  const libs = ['-L' + dir, `-Wl,-rpath,${dir}`, '-Wl,--no-as-needed'];
  // CUDA kernels register themselves from torch_cuda's static initialisers: link it explicitly.
  for (const l of ['torch_cuda', 'c10_cuda']) if (fs.existsSync(path.join(dir, `lib${l}.so`))) libs.push('-l' + l);
  libs.push('-ltorch', '-ltorch_cpu', '-lc10', '-Wl,--as-needed');
  console.log(libs.join(' '));
} else {
  console.error('usage: node libtorch.js include|defines|libs');
  process.exit(2);
}
