// TorchScript modules as black-box teachers: load a file made by torch.jit.trace/script and
// call forward on civet tensors.
#include "common.h"
#include <torch/script.h>

namespace civet {

static void finalizeModule(napi_env, void* data, void*) { delete static_cast<torch::jit::Module*>(data); }

static torch::jit::Module& moduleArg(napi_env env, napi_value v) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) throw JsError{"expected a TorchScript module"};
  return *static_cast<torch::jit::Module*>(p);
}

CIVET_FN(jitLoad) {
  std::string path = strArg(env, argv[0], "path");
  torch::jit::Module m;
  try {
    m = torch::jit::load(path, deviceArg(env, argv[1]));
  } catch (const c10::Error& e) {
    throw JsError{"'" + path + "' is not a loadable TorchScript file: " + e.what_without_backtrace()};
  }
  m.eval();
  auto* holder = new torch::jit::Module(std::move(m));
  napi_value out;
  napi_create_external(env, holder, finalizeModule, nullptr, &out);
  return out;
}

static napi_value fromIValue(napi_env env, const c10::IValue& v) {
  if (v.isTensor()) return wrap(env, v.toTensor());
  if (v.isTuple() || v.isList()) {
    std::vector<c10::IValue> elems;
    if (v.isTuple()) for (auto& e : v.toTupleRef().elements()) elems.push_back(e);
    else for (const auto& e : v.toList()) elems.push_back(e);
    napi_value arr;
    napi_create_array_with_length(env, elems.size(), &arr);
    for (size_t i = 0; i < elems.size(); i++) napi_set_element(env, arr, i, fromIValue(env, elems[i]));
    return arr;
  }
  if (v.isDouble()) return num(env, v.toDouble());
  if (v.isInt()) return num(env, (double)v.toInt());
  if (v.isBool()) return boolean(env, v.toBool());
  if (v.isNone()) return undef(env);
  throw JsError{"TorchScript forward returned an unsupported value of type " + v.tagKind()};
}

CIVET_FN(jitForward) {
  auto& m = moduleArg(env, argv[0]);
  auto ins = tensorListArg(env, argv[1]);
  std::vector<c10::IValue> args(ins.begin(), ins.end());
  return fromIValue(env, m.forward(args));
}

CIVET_FN(jitTo) {
  moduleArg(env, argv[0]).to(deviceArg(env, argv[1]));
  return undef(env);
}

void initJit(napi_env env, napi_value exports) {
  static const Export list[] = {{"jitLoad", jitLoad}, {"jitForward", jitForward}, {"jitTo", jitTo}};
  registerAll(env, exports, list, sizeof(list) / sizeof(list[0]));
}

}  // namespace civet
