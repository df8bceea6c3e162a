// Handles, argument conversion, tensor creation, data in/out, autograd and runtime settings.
#include "common.h"
#include <torch/cuda.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <deque>
#include <malloc.h>
#include <cstdlib>
#include <mutex>
#include <cstring>

namespace civet {

// Tensors live in a slot table; JS holds a BigInt id = (generation << 32) | slot. A BigInt is
// cheap to make (an external with a V8 finalizer cost ~0.7 µs per op, more than ATen's add),
// cannot be confused with a JS number scalar, and the generation makes a stale id an error
// rather than a wrong tensor. JS frees ids through dispose(), tidy() scopes, or a
// FinalizationRegistry for tensors that escape every scope.
struct Slot {
  at::Tensor t;
  uint32_t gen = 1;
  int64_t bytes = 0;     // storage size, when large enough to matter to the collector
  int64_t reported = 0;  // bytes reported to V8 as external memory
};
// a deque: growing it never moves existing slots, so references from tensorArg stay valid
static std::deque<Slot> g_slots;
static std::vector<uint32_t> g_free;
static std::mutex g_mu;
static int64_t g_live = 0;
// Only large tensors that escape every tidy() scope are reported to V8 (report() below): those
// are the ones the collector must free. Reporting every activation made V8 run ~25 full
// collections per ViT training step.
static const int64_t kReportBytes = 1 << 16;

void throwJs(napi_env env, const char* code, const std::string& msg) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  napi_throw_error(env, code, msg.c_str());
}

napi_value wrap(napi_env env, at::Tensor t) {
  int64_t bytes = 0;
  if (t.defined() && t.has_storage()) {
    int64_t nb = (int64_t)t.storage().nbytes();
    if (nb >= kReportBytes) bytes = nb;
  }
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    uint32_t slot;
    if (!g_free.empty()) {
      slot = g_free.back();
      g_free.pop_back();
    } else {
      slot = (uint32_t)g_slots.size();
      g_slots.emplace_back();
    }
    Slot& s = g_slots[slot];
    s.t = std::move(t);
    s.bytes = bytes;
    s.reported = 0;
    g_live++;
    id = ((uint64_t)s.gen << 32) | slot;
  }
  napi_value out;
  napi_create_bigint_uint64(env, id, &out);
  return out;
}

static bool idArg(napi_env env, napi_value v, uint64_t* id) {
  bool lossless;
  return napi_get_value_bigint_uint64(env, v, id, &lossless) == napi_ok;
}

// Frees a slot; returns false if the id was already freed.
static bool release(napi_env env, uint64_t id) {
  int64_t bytes = 0;
  at::Tensor dead;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    uint32_t slot = (uint32_t)(id & 0xffffffffu), gen = (uint32_t)(id >> 32);
    if (slot >= g_slots.size() || g_slots[slot].gen != gen) return false;
    Slot& s = g_slots[slot];
    dead = std::move(s.t);  // freed outside the lock
    s.t = at::Tensor();
    bytes = s.reported;
    s.reported = 0;
    s.gen++;
    g_free.push_back(slot);
    g_live--;
  }
  if (bytes) {
    int64_t ignored;
    napi_adjust_external_memory(env, -bytes, &ignored);
  }
  return true;
}
napi_value wrapList(napi_env env, const std::vector<at::Tensor>& ts) {
  napi_value arr;
  napi_create_array_with_length(env, ts.size(), &arr);
  for (size_t i = 0; i < ts.size(); i++) napi_set_element(env, arr, i, wrap(env, ts[i]));
  return arr;
}

bool isNullish(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_undefined || t == napi_null;
}

bool isTensor(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_bigint;
}

at::Tensor& tensorArg(napi_env env, napi_value v, const char* what) {
  uint64_t id;
  if (!idArg(env, v, &id)) throw JsError{std::string("expected a tensor for ") + what};
  uint32_t slot = (uint32_t)(id & 0xffffffffu), gen = (uint32_t)(id >> 32);
  std::lock_guard<std::mutex> lock(g_mu);
  if (slot >= g_slots.size() || g_slots[slot].gen != gen || !g_slots[slot].t.defined())
    throw JsError{std::string("tensor used after dispose() (") + what + ")"};
  return g_slots[slot].t;
}

c10::optional<at::Tensor> optTensorArg(napi_env env, napi_value v) {
  if (isNullish(env, v)) return c10::nullopt;
  return tensorArg(env, v);
}

std::vector<at::Tensor> tensorListArg(napi_env env, napi_value v) {
  bool isArr = false;
  napi_is_array(env, v, &isArr);
  if (!isArr) throw JsError{"expected an array of tensors"};
  uint32_t n;
  napi_get_array_length(env, v, &n);
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, v, i, &e);
    out.push_back(tensorArg(env, e, "tensor list element"));
  }
  return out;
}

int64_t intArg(napi_env env, napi_value v, const char* what) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) throw JsError{std::string("expected a number for ") + what};
  if (d != (double)(int64_t)d) throw JsError{std::string("expected an integer for ") + what + ", got " + std::to_string(d)};
  return (int64_t)d;
}

double numArg(napi_env env, napi_value v, const char* what) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) throw JsError{std::string("expected a number for ") + what};
  return d;
}

bool boolArg(napi_env env, napi_value v) {
  bool b = false;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_boolean) napi_get_value_bool(env, v, &b);
  else if (t == napi_number) b = numArg(env, v) != 0;
  return b;
}

std::string strArg(napi_env env, napi_value v, const char* what) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) throw JsError{std::string("expected a string for ") + what};
  std::string s(len, '\0');
  napi_get_value_string_utf8(env, v, s.data(), len + 1, &len);
  return s;
}

std::vector<int64_t> intListArg(napi_env env, napi_value v, const char* what) {
  bool isArr = false;
  napi_is_array(env, v, &isArr);
  if (!isArr) {
    napi_valuetype t;
    napi_typeof(env, v, &t);
    if (t == napi_number) return {intArg(env, v, what)};
    throw JsError{std::string("expected an array of integers for ") + what};
  }
  uint32_t n;
  napi_get_array_length(env, v, &n);
  std::vector<int64_t> out(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, v, i, &e);
    out[i] = intArg(env, e, what);
  }
  return out;
}

c10::optional<std::vector<int64_t>> optIntListArg(napi_env env, napi_value v) {
  if (isNullish(env, v)) return c10::nullopt;
  return intListArg(env, v);
}

at::Scalar scalarArg(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_boolean) return at::Scalar(boolArg(env, v));
  if (t == napi_bigint) throw JsError{"expected a number, got a tensor"};
  double d = numArg(env, v, "scalar");
  // JS has one number type; integral values act like Python ints so int tensors stay int.
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.007199254740992e15) return at::Scalar((int64_t)d);
  return at::Scalar(d);
}

at::ScalarType dtypeArg(napi_env env, napi_value v) {
  int64_t code = intArg(env, v, "dtype");
  if (code < 0 || code >= (int64_t)at::ScalarType::NumOptions) throw JsError{"unknown dtype code " + std::to_string(code)};
  return (at::ScalarType)code;
}

c10::optional<at::ScalarType> optDtypeArg(napi_env env, napi_value v) {
  if (isNullish(env, v)) return c10::nullopt;
  return dtypeArg(env, v);
}

at::Device deviceArg(napi_env env, napi_value v) {
  if (isNullish(env, v)) return at::Device(at::kCPU);
  std::string s = strArg(env, v, "device");
  try {
    return at::Device(s);
  } catch (const c10::Error&) {
    throw JsError{"invalid device '" + s + "' (expected 'cpu', 'cuda' or 'cuda:N')"};
  }
}

// Generators are handed to JS as externals holding an at::Generator.
static void finalizeGen(napi_env, void* data, void*) { delete static_cast<at::Generator*>(data); }

c10::optional<at::Generator> genArg(napi_env env, napi_value v) {
  if (isNullish(env, v)) return c10::nullopt;
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) throw JsError{"expected a Generator"};
  return *static_cast<at::Generator*>(p);
}

napi_value num(napi_env env, double d) { napi_value r; napi_create_double(env, d, &r); return r; }
napi_value boolean(napi_env env, bool b) { napi_value r; napi_get_boolean(env, b, &r); return r; }
napi_value str(napi_env env, const std::string& s) { napi_value r; napi_create_string_utf8(env, s.data(), s.size(), &r); return r; }
napi_value undef(napi_env env) { napi_value r; napi_get_undefined(env, &r); return r; }
napi_value intArray(napi_env env, at::IntArrayRef xs) {
  napi_value arr;
  napi_create_array_with_length(env, xs.size(), &arr);
  for (size_t i = 0; i < xs.size(); i++) napi_set_element(env, arr, i, num(env, (double)xs[i]));
  return arr;
}

void registerAll(napi_env env, napi_value exports, const Export* list, size_t n) {
  for (size_t i = 0; i < n; i++) {
    napi_value fn;
    napi_create_function(env, list[i].name, NAPI_AUTO_LENGTH, list[i].fn, nullptr, &fn);
    napi_set_named_property(env, exports, list[i].name, fn);
  }
}

static at::TensorOptions opts(napi_env env, napi_value dtype, napi_value device) {
  auto o = at::TensorOptions().device(deviceArg(env, device));
  if (!isNullish(env, dtype)) o = o.dtype(dtypeArg(env, dtype));
  return o;
}

// ---- handles and metadata --------------------------------------------------------------

CIVET_FN(dispose) {
  uint64_t id;
  if (!idArg(env, argv[0], &id)) throw JsError{"dispose: expected a tensor"};
  return boolean(env, release(env, id));
}
// report(id): the tensor now belongs to no scope; count its memory toward V8's GC pressure.
CIVET_FN(report) {
  uint64_t id;
  if (!idArg(env, argv[0], &id)) throw JsError{"report: expected a tensor"};
  int64_t bytes = 0;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    uint32_t slot = (uint32_t)(id & 0xffffffffu), gen = (uint32_t)(id >> 32);
    if (slot >= g_slots.size() || g_slots[slot].gen != gen) return undef(env);
    Slot& s = g_slots[slot];
    if (s.reported || !s.bytes) return undef(env);
    bytes = s.reported = s.bytes;
  }
  int64_t ignored;
  napi_adjust_external_memory(env, bytes, &ignored);
  return undef(env);
}
CIVET_FN(isDisposed) {
  uint64_t id;
  if (!idArg(env, argv[0], &id)) throw JsError{"expected a tensor"};
  std::lock_guard<std::mutex> lock(g_mu);
  uint32_t slot = (uint32_t)(id & 0xffffffffu), gen = (uint32_t)(id >> 32);
  return boolean(env, slot >= g_slots.size() || g_slots[slot].gen != gen);
}
CIVET_FN(liveTensors) { return num(env, (double)g_live); }
CIVET_FN(shape) { return intArray(env, tensorArg(env, argv[0]).sizes()); }
CIVET_FN(strides) { return intArray(env, tensorArg(env, argv[0]).strides()); }
CIVET_FN(dtype) { return num(env, (double)(int)tensorArg(env, argv[0]).scalar_type()); }
CIVET_FN(device) { return str(env, tensorArg(env, argv[0]).device().str()); }
CIVET_FN(isContiguous) { return boolean(env, tensorArg(env, argv[0]).is_contiguous()); }
CIVET_FN(requiresGrad) { return boolean(env, tensorArg(env, argv[0]).requires_grad()); }
CIVET_FN(isLeaf) { return boolean(env, tensorArg(env, argv[0]).is_leaf()); }
CIVET_FN(setRequiresGrad) {
  tensorArg(env, argv[0]).set_requires_grad(boolArg(env, argv[1]));
  return undef(env);
}
CIVET_FN(dataPtrKey) {  // identity of the underlying storage, for tests of views and sharing
  auto& t = tensorArg(env, argv[0]);
  return num(env, (double)(uintptr_t)t.data_ptr());
}

// ---- creation ------------------------------------------------------------------------------

CIVET_FN(full) {
  return wrap(env, at::full(intListArg(env, argv[0], "shape"), scalarArg(env, argv[1]), opts(env, argv[2], argv[3])));
}
CIVET_FN(empty) { return wrap(env, at::empty(intListArg(env, argv[0], "shape"), opts(env, argv[1], argv[2]))); }
CIVET_FN(arange) {
  return wrap(env, at::arange(scalarArg(env, argv[0]), scalarArg(env, argv[1]), scalarArg(env, argv[2]), opts(env, argv[3], argv[4])));
}
CIVET_FN(linspace) {
  return wrap(env, at::linspace(scalarArg(env, argv[0]), scalarArg(env, argv[1]), intArg(env, argv[2]), opts(env, argv[3], argv[4])));
}
CIVET_FN(eye) { return wrap(env, at::eye(intArg(env, argv[0]), intArg(env, argv[1]), opts(env, argv[2], argv[3]))); }
CIVET_FN(rand) { return wrap(env, at::rand(intListArg(env, argv[0]), genArg(env, argv[3]), opts(env, argv[1], argv[2]))); }
CIVET_FN(randn) { return wrap(env, at::randn(intListArg(env, argv[0]), genArg(env, argv[3]), opts(env, argv[1], argv[2]))); }
CIVET_FN(randint) {
  return wrap(env, at::randint(intArg(env, argv[0]), intArg(env, argv[1]), intListArg(env, argv[2]), genArg(env, argv[5]),
                               opts(env, argv[3], argv[4])));
}
CIVET_FN(randperm) { return wrap(env, at::randperm(intArg(env, argv[0]), genArg(env, argv[3]), opts(env, argv[1], argv[2]))); }
// In-place random fills used by initializers (normal_, uniform_, bernoulli_) on a given generator.
CIVET_FN(normal_) {
  auto& t = tensorArg(env, argv[0]);
  t.normal_(numArg(env, argv[1]), numArg(env, argv[2]), genArg(env, argv[3]));
  return argv[0];
}
CIVET_FN(uniform_) {
  auto& t = tensorArg(env, argv[0]);
  t.uniform_(numArg(env, argv[1]), numArg(env, argv[2]), genArg(env, argv[3]));
  return argv[0];
}
CIVET_FN(bernoulli_) {
  auto& t = tensorArg(env, argv[0]);
  t.bernoulli_(numArg(env, argv[1]), genArg(env, argv[2]));
  return argv[0];
}

// fromBytes(u8 view, shape, dtype, device): copies the bytes (little-endian, C order).
CIVET_FN(fromBytes) {
  void* data;
  size_t len;
  napi_typedarray_type tt;
  napi_value ab;
  size_t off;
  bool isTA = false;
  napi_is_typedarray(env, argv[0], &isTA);
  if (!isTA) throw JsError{"fromBytes: expected a typed array"};
  napi_get_typedarray_info(env, argv[0], &tt, &len, &data, &ab, &off);
  size_t elt = 1;
  switch (tt) {
    case napi_int16_array: case napi_uint16_array: elt = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: elt = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elt = 8; break;
    default: elt = 1;
  }
  size_t nbytes = len * elt;
  auto shape = intListArg(env, argv[1], "shape");
  auto dt = dtypeArg(env, argv[2]);
  int64_t numel = 1;
  for (auto s : shape) {
    if (s < 0) throw JsError{"fromBytes: negative dimension in shape"};
    numel *= s;
  }
  size_t need = (size_t)numel * c10::elementSize(dt);
  if (need != nbytes)
    throw JsError{"fromBytes: shape needs " + std::to_string(need) + " bytes of " + std::string(c10::toString(dt)) +
                  " but the data has " + std::to_string(nbytes)};
  auto t = at::empty(shape, at::TensorOptions().dtype(dt));
  if (nbytes) std::memcpy(t.data_ptr(), data, nbytes);
  auto dev = deviceArg(env, argv[3]);
  if (dev != t.device()) t = t.to(dev);
  return wrap(env, t);
}

// toBytes(t): a fresh ArrayBuffer with the contiguous CPU bytes.
CIVET_FN(toBytes) {
  auto t = tensorArg(env, argv[0]).detach();
  if (t.device().type() != at::kCPU) t = t.cpu();
  t = t.contiguous();
  size_t nbytes = t.numel() * t.element_size();
  void* out;
  napi_value ab;
  napi_create_arraybuffer(env, nbytes, &out, &ab);
  if (nbytes) std::memcpy(out, t.data_ptr(), nbytes);
  return ab;
}

CIVET_FN(item) {
  auto& t = tensorArg(env, argv[0]);
  if (t.numel() != 1) throw JsError{"item(): tensor has " + std::to_string(t.numel()) + " elements, expected exactly 1"};
  auto s = t.item();
  if (s.isBoolean()) return boolean(env, s.toBool());
  return num(env, s.toDouble());
}

// ---- autograd ---------------------------------------------------------------------------

CIVET_FN(backward) {
  auto& t = tensorArg(env, argv[0]);
  auto g = optTensorArg(env, argv[1]);
  bool retain = boolArg(env, argv[2]);
  bool create = boolArg(env, argv[3]);
  if (!t.requires_grad()) throw JsError{"backward(): tensor does not require grad and has no grad_fn"};
  if (!g && t.numel() != 1)
    throw JsError{"backward(): grad can be implicitly created only for scalar outputs; pass a gradient for shape " +
                  c10::str(t.sizes())};
  t.backward(g.value_or(at::Tensor()), retain, create);
  return undef(env);
}
CIVET_FN(grad) {
  auto& t = tensorArg(env, argv[0]);
  const auto& g = t.grad();
  if (!g.defined()) { napi_value n; napi_get_null(env, &n); return n; }
  return wrap(env, g);
}
CIVET_FN(setGrad) {
  auto& t = tensorArg(env, argv[0]);
  if (isNullish(env, argv[1])) t.mutable_grad().reset();
  else t.mutable_grad() = tensorArg(env, argv[1]);
  return undef(env);
}
// autogradGrad(outputs, inputs, gradOutputs|null, retainGraph, createGraph, allowUnused)
CIVET_FN(autogradGrad) {
  auto outs = tensorListArg(env, argv[0]);
  auto ins = tensorListArg(env, argv[1]);
  std::vector<at::Tensor> gos;
  if (!isNullish(env, argv[2])) gos = tensorListArg(env, argv[2]);
  c10::optional<bool> retain;
  if (!isNullish(env, argv[3])) retain = boolArg(env, argv[3]);
  auto res = torch::autograd::grad(outs, ins, gos, retain, boolArg(env, argv[4]), boolArg(env, argv[5]));
  napi_value arr;
  napi_create_array_with_length(env, res.size(), &arr);
  for (size_t i = 0; i < res.size(); i++) {
    napi_value v;
    if (res[i].defined()) v = wrap(env, res[i]); else napi_get_null(env, &v);
    napi_set_element(env, arr, i, v);
  }
  return arr;
}
CIVET_FN(gradEnabled) { return boolean(env, at::GradMode::is_enabled()); }
CIVET_FN(setGradEnabled) {
  at::GradMode::set_enabled(boolArg(env, argv[0]));
  return undef(env);
}

// ---- runtime ------------------------------------------------------------------------------

CIVET_FN(setNumThreads) {
  int64_t n = intArg(env, argv[0], "threads");
  if (n < 1) throw JsError{"setNumThreads: need at least 1 thread"};
  at::set_num_threads((int)n);
  return undef(env);
}
CIVET_FN(getNumThreads) { return num(env, at::get_num_threads()); }
CIVET_FN(manualSeed) {
  uint64_t seed = (uint64_t)intArg(env, argv[0], "seed");
  torch::manual_seed(seed);
  return undef(env);
}
CIVET_FN(cudaAvailable) { return boolean(env, torch::cuda::is_available()); }
CIVET_FN(cudaDeviceCount) { return num(env, (double)torch::cuda::device_count()); }
CIVET_FN(cudaSynchronize) {
  if (torch::cuda::is_available()) torch::cuda::synchronize();
  return undef(env);
}
CIVET_FN(newGenerator) {
  auto* g = new at::Generator(at::make_generator<at::CPUGeneratorImpl>((uint64_t)intArg(env, argv[0], "seed")));
  napi_value out;
  napi_create_external(env, g, finalizeGen, nullptr, &out);
  return out;
}
// RNG state of the default CPU generator (or a given one) as a uint8 tensor, for checkpoints.
CIVET_FN(getRngState) {
  auto g = genArg(env, argv[0]);
  auto gen = g ? *g : at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return wrap(env, gen.get_state());
}
CIVET_FN(setRngState) {
  auto g = genArg(env, argv[1]);
  auto gen = g ? *g : at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(tensorArg(env, argv[0]));
  return undef(env);
}
// Autocast (mixed precision) on a device type: ops that autocast lists run in `dtype`.
// setAutocast(deviceType 'cpu'|'cuda', enabled, dtypeCode); leaving the outermost scope clears
// the cast cache, as torch.autocast's __exit__ does.
CIVET_FN(setAutocast) {
  std::string dev = strArg(env, argv[0], "device type");
  bool on = boolArg(env, argv[1]);
  auto dt = dtypeArg(env, argv[2]);
  if (dev != "cpu" && dev != "cuda") throw JsError{"autocast: device type must be 'cpu' or 'cuda', got '" + dev + "'"};
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  auto type = dev == "cpu" ? at::kCPU : at::kCUDA;
  at::autocast::set_autocast_enabled(type, on);
  if (on) at::autocast::set_autocast_dtype(type, dt);
#else
  if (dev == "cpu") {
    at::autocast::set_cpu_enabled(on);
    if (on) at::autocast::set_autocast_cpu_dtype(dt);
  } else {
    at::autocast::set_enabled(on);
    if (on) at::autocast::set_autocast_gpu_dtype(dt);
  }
#endif
  if (on) at::autocast::increment_nesting();
  else if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  return undef(env);
}

CIVET_FN(buildInfo) {
  napi_value o;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "torch", str(env, TORCH_VERSION));
  napi_set_named_property(env, o, "cuda", boolean(env, torch::cuda::is_available()));
  napi_set_named_property(env, o, "threads", num(env, at::get_num_threads()));
  napi_set_named_property(env, o, "config", str(env, at::show_config()));
  napi_set_named_property(env, o, "parallel", str(env, at::get_parallel_info()));
  return o;
}

void initCore(napi_env env, napi_value exports) {
  static const Export list[] = {
      {"dispose", dispose}, {"report", report}, {"isDisposed", isDisposed}, {"liveTensors", liveTensors}, {"shape", shape},
      {"strides", strides}, {"dtype", dtype}, {"device", device}, {"isContiguous", isContiguous},
      {"requiresGrad", requiresGrad}, {"isLeaf", isLeaf}, {"setRequiresGrad", setRequiresGrad},
      {"dataPtrKey", dataPtrKey}, {"full", full}, {"empty", empty}, {"arange", arange}, {"linspace", linspace},
      {"eye", eye}, {"rand", rand}, {"randn", randn}, {"randint", randint}, {"randperm", randperm},
      {"normal_", normal_}, {"uniform_", uniform_}, {"bernoulli_", bernoulli_}, {"fromBytes", fromBytes},
      {"toBytes", toBytes}, {"item", item}, {"backward", backward}, {"grad", grad}, {"setGrad", setGrad},
      {"autogradGrad", autogradGrad}, {"gradEnabled", gradEnabled}, {"setGradEnabled", setGradEnabled},
      {"setNumThreads", setNumThreads}, {"getNumThreads", getNumThreads}, {"manualSeed", manualSeed},
      {"cudaAvailable", cudaAvailable}, {"cudaDeviceCount", cudaDeviceCount}, {"cudaSynchronize", cudaSynchronize},
      {"newGenerator", newGenerator}, {"getRngState", getRngState}, {"setRngState", setRngState},
      {"buildInfo", buildInfo}, {"setAutocast", setAutocast},
  };
  registerAll(env, exports, list, sizeof(list) / sizeof(list[0]));
}

}  // namespace civet

NAPI_MODULE_INIT() {
#ifdef __GLIBC__
  // Keep large freed blocks in the heap instead of returning them to the OS: a training step
  // frees and re-allocates the same activation sizes every iteration, and mmap/munmap of each
  // one cost page faults on every step.
  // CIVET_MMAP_THRESHOLD_MB / CIVET_TRIM_THRESHOLD_MB override the two (issue 13: this
  // retention is one cause of civt-step's peak RSS above PyTorch's; the overrides let the
  // trade-off be measured without a rebuild).
  auto mb = [](const char* name, long dflt) {
    const char* v = std::getenv(name);
    char* end = nullptr;
    long x = v ? std::strtol(v, &end, 10) : -1;
    return (v && end != v && *end == '\0' && x >= 0 && x <= 2047) ? x : dflt;
  };
  // 0 leaves glibc's own (dynamic) threshold, which is what a Python process gets.
  const long mmapMb = mb("CIVET_MMAP_THRESHOLD_MB", 256), trimMb = mb("CIVET_TRIM_THRESHOLD_MB", 512);
  if (mmapMb > 0) mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmapMb << 20));
  if (trimMb > 0) mallopt(M_TRIM_THRESHOLD, static_cast<int>(trimMb << 20));
#endif
  civet::initCore(env, exports);
  civet::initOps(env, exports);
  civet::initNN(env, exports);
  civet::initJit(env, exports);
  civet::initDist(env, exports);
  civet::initForeach(env, exports);
  return exports;
}
