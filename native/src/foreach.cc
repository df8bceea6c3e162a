// Multi-tensor optimizer kernels: libtorch's at::_foreach_* (one call over a list of tensors
// instead of one per parameter; on CUDA, one fused multi-tensor-apply launch per chunk of the
// list, on CPU the same per-tensor kernels as the single-tensor ops, so results are identical).
// torch.optim's foreach path (torch/optim/adamw.py `_multi_tensor_adamw`, sgd.py
// `_multi_tensor_sgd`) is written in these calls. _fused_adamw_ (one kernel for the whole AdamW
// update) exists from libtorch 2.1 on and is compiled only there; fusedAdamWAvailable says which.
// Thin by design: the optimizer's arithmetic lives in src/optim/.
#include "common.h"

namespace civet {

static bool isArrayArg(napi_env env, napi_value v) {
  bool a = false;
  napi_is_array(env, v, &a);
  return a;
}

static void sameLength(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b, const char* what) {
  if (a.size() != b.size()) throw JsError{std::string(what) + ": tensor lists of different lengths (" + std::to_string(a.size()) + " and " + std::to_string(b.size()) + ")"};
}

// foreachAdd_(self[], other[] | scalar, alpha?)
CIVET_FN(foreachAdd_) {
  auto self = tensorListArg(env, argv[0]);
  if (isArrayArg(env, argv[1])) {
    auto other = tensorListArg(env, argv[1]);
    sameLength(self, other, "foreachAdd_");
    at::_foreach_add_(self, other, isNullish(env, argv[2]) ? at::Scalar(1) : scalarArg(env, argv[2]));
  } else {
    at::_foreach_add_(self, scalarArg(env, argv[1]));
  }
  return undef(env);
}

// foreachAdd(self[], other[], alpha) -> new tensors self + alpha·other
CIVET_FN(foreachAdd) {
  auto self = tensorListArg(env, argv[0]);
  auto other = tensorListArg(env, argv[1]);
  sameLength(self, other, "foreachAdd");
  return wrapList(env, at::_foreach_add(self, other, isNullish(env, argv[2]) ? at::Scalar(1) : scalarArg(env, argv[2])));
}

CIVET_FN(foreachMul_) {
  auto self = tensorListArg(env, argv[0]);
  at::_foreach_mul_(self, scalarArg(env, argv[1]));
  return undef(env);
}

CIVET_FN(foreachDiv_) {
  auto self = tensorListArg(env, argv[0]);
  at::_foreach_div_(self, scalarArg(env, argv[1]));
  return undef(env);
}

// foreachAddcmul_(self[], t1[], t2[], value): self += value·t1·t2
CIVET_FN(foreachAddcmul_) {
  auto self = tensorListArg(env, argv[0]), t1 = tensorListArg(env, argv[1]), t2 = tensorListArg(env, argv[2]);
  sameLength(self, t1, "foreachAddcmul_");
  sameLength(self, t2, "foreachAddcmul_");
  at::_foreach_addcmul_(self, t1, t2, scalarArg(env, argv[3]));
  return undef(env);
}

// foreachAddcdiv_(self[], t1[], t2[], value): self += value·t1/t2
CIVET_FN(foreachAddcdiv_) {
  auto self = tensorListArg(env, argv[0]), t1 = tensorListArg(env, argv[1]), t2 = tensorListArg(env, argv[2]);
  sameLength(self, t1, "foreachAddcdiv_");
  sameLength(self, t2, "foreachAddcdiv_");
  at::_foreach_addcdiv_(self, t1, t2, scalarArg(env, argv[3]));
  return undef(env);
}

CIVET_FN(foreachSqrt) {
  return wrapList(env, at::_foreach_sqrt(tensorListArg(env, argv[0])));
}

// fusedAdamW_(params[], grads[], expAvgs[], expAvgSqs[], maxExpAvgSqs[], steps[] (float tensors),
//             lr, beta1, beta2, weightDecay, eps, amsgrad, maximize)
CIVET_FN(fusedAdamW_) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
  auto p = tensorListArg(env, argv[0]), g = tensorListArg(env, argv[1]), m = tensorListArg(env, argv[2]);
  auto v = tensorListArg(env, argv[3]), vmax = tensorListArg(env, argv[4]), steps = tensorListArg(env, argv[5]);
  sameLength(p, g, "fusedAdamW_");
  sameLength(p, m, "fusedAdamW_");
  sameLength(p, v, "fusedAdamW_");
  sameLength(p, steps, "fusedAdamW_");
  at::_fused_adamw_(p, g, m, v, vmax, steps, numArg(env, argv[6], "lr"), numArg(env, argv[7], "beta1"), numArg(env, argv[8], "beta2"),
                    numArg(env, argv[9], "weightDecay"), numArg(env, argv[10], "eps"), boolArg(env, argv[11]), boolArg(env, argv[12]));
  return undef(env);
#else
  throw JsError{"fusedAdamW_: this libtorch (" + std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + ") has no _fused_adamw_ (2.1 and later)"};
#endif
}

void initForeach(napi_env env, napi_value exports) {
  static const Export list[] = {
      {"foreachAdd_", foreachAdd_}, {"foreachAdd", foreachAdd}, {"foreachMul_", foreachMul_}, {"foreachDiv_", foreachDiv_},
      {"foreachAddcmul_", foreachAddcmul_}, {"foreachAddcdiv_", foreachAddcdiv_}, {"foreachSqrt", foreachSqrt},
      {"fusedAdamW_", fusedAdamW_},
  };
  registerAll(env, exports, list, sizeof(list) / sizeof(list[0]));
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
  napi_set_named_property(env, exports, "fusedAdamWAvailable", boolean(env, true));
#else
  napi_set_named_property(env, exports, "fusedAdamWAvailable", boolean(env, false));
#endif
}

}  // namespace civet
