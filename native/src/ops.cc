// Elementwise math, reductions, shape and indexing ops, linear algebra.
// Families of same-signature ops go through one entry point with an opcode; the opcode tables
// are exported by name so the TypeScript side never hard-codes numbers.
#include "common.h"

namespace civet {

#define UNARY_OPS(X)                                                                        \
  X(neg, at::neg(a)) X(abs, at::abs(a)) X(exp, at::exp(a)) X(log, at::log(a)) X(sqrt, at::sqrt(a)) \
  X(rsqrt, at::rsqrt(a)) X(sigmoid, at::sigmoid(a)) X(tanh, at::tanh(a)) X(relu, at::relu(a))      \
  X(gelu, at::gelu(a)) X(gelu_tanh, at::gelu(a, "tanh")) X(silu, at::silu(a)) X(sin, at::sin(a))   \
  X(cos, at::cos(a)) X(floor, at::floor(a)) X(ceil, at::ceil(a)) X(round, at::round(a))            \
  X(sign, at::sign(a)) X(reciprocal, at::reciprocal(a)) X(log1p, at::log1p(a)) X(expm1, at::expm1(a)) \
  X(erf, at::erf(a)) X(logical_not, at::logical_not(a)) X(isnan, at::isnan(a)) X(isinf, at::isinf(a)) \
  X(isfinite, at::isfinite(a)) X(contiguous, a.contiguous()) X(clone, a.clone()) X(detach, a.detach()) \
  X(square, at::square(a)) X(trunc, at::trunc(a)) X(log2, at::log2(a)) X(hardswish, at::hardswish(a)) \
  X(hardsigmoid, at::hardsigmoid(a)) X(mish, at::mish(a)) X(t, a.t()) X(relu6, at::hardtanh(a, 0, 6)) \
  X(log_sigmoid, at::log_sigmoid(a)) X(softplus, at::softplus(a)) X(floatCast, a.to(at::kFloat))

#define BINARY_OPS(X)                                                                       \
  X(add) X(sub) X(mul) X(div) X(pow) X(minimum) X(maximum) X(eq) X(ne) X(lt) X(le) X(gt) X(ge)    \
  X(logical_and) X(logical_or) X(logical_xor) X(remainder) X(fmod) X(atan2) X(matmul) X(bmm) X(mm) \
  X(floor_divide) X(bitwise_and) X(bitwise_or) X(outer) X(xlogy)

enum Unary {
#define X(n, e) U_##n,
  UNARY_OPS(X)
#undef X
};
enum Binary {
#define X(n) B_##n,
  BINARY_OPS(X)
#undef X
};

static const char* kUnaryNames[] = {
#define X(n, e) #n,
    UNARY_OPS(X)
#undef X
};
static const char* kBinaryNames[] = {
#define X(n) #n,
    BINARY_OPS(X)
#undef X
};

CIVET_FN(unary) {
  auto& a = tensorArg(env, argv[0]);
  int64_t op = intArg(env, argv[1]);
  switch (op) {
#define X(n, e) case U_##n: return wrap(env, e);
    UNARY_OPS(X)
#undef X
  }
  throw JsError{"unknown unary opcode"};
}

// Tensor–tensor or tensor–scalar; a scalar on the left is handled by swapping where valid.
static at::Tensor binaryTT(int64_t op, const at::Tensor& a, const at::Tensor& b) {
  switch (op) {
    case B_add: return at::add(a, b); case B_sub: return at::sub(a, b); case B_mul: return at::mul(a, b);
    case B_div: return at::div(a, b); case B_pow: return at::pow(a, b); case B_minimum: return at::minimum(a, b);
    case B_maximum: return at::maximum(a, b); case B_eq: return at::eq(a, b); case B_ne: return at::ne(a, b);
    case B_lt: return at::lt(a, b); case B_le: return at::le(a, b); case B_gt: return at::gt(a, b);
    case B_ge: return at::ge(a, b); case B_logical_and: return at::logical_and(a, b);
    case B_logical_or: return at::logical_or(a, b); case B_logical_xor: return at::logical_xor(a, b);
    case B_remainder: return at::remainder(a, b); case B_fmod: return at::fmod(a, b);
    case B_atan2: return at::atan2(a, b); case B_matmul: return at::matmul(a, b); case B_bmm: return at::bmm(a, b);
    case B_mm: return at::mm(a, b); case B_floor_divide: return at::floor_divide(a, b);
    case B_bitwise_and: return at::bitwise_and(a, b); case B_bitwise_or: return at::bitwise_or(a, b);
    case B_outer: return at::outer(a, b); case B_xlogy: return at::xlogy(a, b);
  }
  throw JsError{"unknown binary opcode"};
}
static at::Tensor binaryTS(int64_t op, const at::Tensor& a, const at::Scalar& b) {
  switch (op) {
    case B_add: return at::add(a, b); case B_sub: return at::sub(a, b); case B_mul: return at::mul(a, b);
    case B_div: return at::div(a, b); case B_pow: return at::pow(a, b); case B_eq: return at::eq(a, b);
    case B_ne: return at::ne(a, b); case B_lt: return at::lt(a, b); case B_le: return at::le(a, b);
    case B_gt: return at::gt(a, b); case B_ge: return at::ge(a, b); case B_remainder: return at::remainder(a, b);
    case B_fmod: return at::fmod(a, b); case B_floor_divide: return at::floor_divide(a, b);
    case B_xlogy: return at::xlogy(a, b);
    case B_bitwise_and: return at::bitwise_and(a, b); case B_bitwise_or: return at::bitwise_or(a, b);
    default: {
      // ops without a scalar overload: lift the scalar to a 0-d tensor of a's dtype
      auto s = at::scalar_tensor(b, a.options().requires_grad(false));
      return binaryTT(op, a, s);
    }
  }
}

// binary(a, b, opcode[, alpha]) where a and/or b may be numbers
CIVET_FN(binary) {
  int64_t op = intArg(env, argv[2]);
  bool ta = isTensor(env, argv[0]), tb = isTensor(env, argv[1]);
  if (ta && tb) {
    auto& a = tensorArg(env, argv[0]);
    auto& b = tensorArg(env, argv[1]);
    if (!isNullish(env, argv[3]) && (op == B_add || op == B_sub)) {
      auto alpha = scalarArg(env, argv[3]);
      return wrap(env, op == B_add ? at::add(a, b, alpha) : at::sub(a, b, alpha));
    }
    return wrap(env, binaryTT(op, a, b));
  }
  if (ta) return wrap(env, binaryTS(op, tensorArg(env, argv[0]), scalarArg(env, argv[1])));
  if (tb) {
    auto& b = tensorArg(env, argv[1]);
    auto s = scalarArg(env, argv[0]);
    if (op == B_pow) return wrap(env, at::pow(s, b));
    auto a = at::scalar_tensor(s, b.options().requires_grad(false));
    return wrap(env, binaryTT(op, a, b));
  }
  throw JsError{"binary op needs at least one tensor"};
}

// In-place updates, used by optimizers and initializers. Return the same handle.
CIVET_FN(inplace) {
  auto& a = tensorArg(env, argv[0]);
  std::string op = strArg(env, argv[1]);
  napi_value b = argv[2];
  if (op == "add_") {
    auto alpha = isNullish(env, argv[3]) ? at::Scalar(1) : scalarArg(env, argv[3]);
    if (isTensor(env, b)) a.add_(tensorArg(env, b), alpha); else a.add_(scalarArg(env, b), alpha);
  } else if (op == "sub_") {
    if (isTensor(env, b)) a.sub_(tensorArg(env, b)); else a.sub_(scalarArg(env, b));
  } else if (op == "mul_") {
    if (isTensor(env, b)) a.mul_(tensorArg(env, b)); else a.mul_(scalarArg(env, b));
  } else if (op == "div_") {
    if (isTensor(env, b)) a.div_(tensorArg(env, b)); else a.div_(scalarArg(env, b));
  } else if (op == "copy_") {
    a.copy_(tensorArg(env, b));
  } else if (op == "zero_") {
    a.zero_();
  } else if (op == "fill_") {
    a.fill_(scalarArg(env, b));
  } else if (op == "clamp_") {
    c10::optional<at::Scalar> lo, hi;
    if (!isNullish(env, b)) lo = scalarArg(env, b);
    if (!isNullish(env, argv[3])) hi = scalarArg(env, argv[3]);
    a.clamp_(lo, hi);
  } else if (op == "addcmul_") {
    a.addcmul_(tensorArg(env, b), tensorArg(env, argv[3]), scalarArg(env, argv[4]));
  } else if (op == "addcdiv_") {
    a.addcdiv_(tensorArg(env, b), tensorArg(env, argv[3]), scalarArg(env, argv[4]));
  } else if (op == "lerp_") {
    if (isTensor(env, argv[3])) a.lerp_(tensorArg(env, b), tensorArg(env, argv[3]));
    else a.lerp_(tensorArg(env, b), scalarArg(env, argv[3]));
  } else if (op == "sqrt_") {
    a.sqrt_();
  } else if (op == "masked_fill_") {
    a.masked_fill_(tensorArg(env, b), scalarArg(env, argv[3]));
  } else if (op == "requires_grad_") {
    a.requires_grad_(boolArg(env, b));
  } else if (op == "index_copy_") {
    a.index_copy_(intArg(env, b), tensorArg(env, argv[3]), tensorArg(env, argv[4]));
  } else if (op == "index_add_") {
    a.index_add_(intArg(env, b), tensorArg(env, argv[3]), tensorArg(env, argv[4]));
  } else if (op == "trunc_normal_") {
    // fill with N(mean, std) truncated to [lo, hi] by inverse-CDF, as torch.nn.init.trunc_normal_
    double mean = numArg(env, b), std = numArg(env, argv[3]), lo = numArg(env, argv[4]), hi = numArg(env, argv[5]);
    auto gen = genArg(env, argv[6]);
    at::NoGradGuard ng;
    auto cdf = [](double x) { return (1. + std::erf(x / std::sqrt(2.))) / 2.; };
    double l = cdf((lo - mean) / std), u = cdf((hi - mean) / std);
    a.uniform_(2 * l - 1, 2 * u - 1, gen);
    a.erfinv_();
    a.mul_(std * std::sqrt(2.));
    a.add_(mean);
    a.clamp_(lo, hi);
  } else {
    throw JsError{"unknown in-place op '" + op + "'"};
  }
  return argv[0];
}

// ---- reductions ----------------------------------------------------------------------------

static at::OptionalIntArrayRef dimsOpt(const c10::optional<std::vector<int64_t>>& d) {
  if (!d) return c10::nullopt;
  return at::IntArrayRef(*d);
}

// reduce(t, name, dims|null, keepdim, extra)
CIVET_FN(reduce) {
  auto& a = tensorArg(env, argv[0]);
  std::string op = strArg(env, argv[1]);
  auto dims = optIntListArg(env, argv[2]);
  bool keep = boolArg(env, argv[3]);
  std::vector<int64_t> all;
  if (op == "sum") {
    auto dt = optDtypeArg(env, argv[4]);
    if (!dims) return wrap(env, at::sum(a, dt));
    return wrap(env, at::sum(a, *dims, keep, dt));
  }
  if (op == "mean") {
    if (!dims) return wrap(env, at::mean(a));
    return wrap(env, at::mean(a, *dims, keep));
  }
  if (op == "var" || op == "std") {
    int64_t correction = isNullish(env, argv[4]) ? 1 : intArg(env, argv[4]);
    auto r = op == "var" ? at::var(a, dimsOpt(dims), correction, keep) : at::std(a, dimsOpt(dims), correction, keep);
    return wrap(env, r);
  }
  if (op == "logsumexp") {
    if (!dims) { for (int64_t i = 0; i < a.dim(); i++) all.push_back(i); dims = all; }
    return wrap(env, at::logsumexp(a, *dims, keep));
  }
  if (op == "amax") return wrap(env, at::amax(a, dims ? *dims : std::vector<int64_t>{}, keep));
  if (op == "amin") return wrap(env, at::amin(a, dims ? *dims : std::vector<int64_t>{}, keep));
  if (op == "prod") {
    if (!dims) return wrap(env, at::prod(a));
    if (dims->size() != 1) throw JsError{"prod: reduce over one dim at a time"};
    return wrap(env, at::prod(a, (*dims)[0], keep));
  }
  if (op == "all") {
    if (!dims) return wrap(env, at::all(a));
    return wrap(env, at::all(a, (*dims)[0], keep));
  }
  if (op == "any") {
    if (!dims) return wrap(env, at::any(a));
    return wrap(env, at::any(a, (*dims)[0], keep));
  }
  if (op == "norm") {
    double p = isNullish(env, argv[4]) ? 2.0 : numArg(env, argv[4]);
    if (!dims) return wrap(env, at::norm(a, p));
    return wrap(env, at::norm(a, p, *dims, keep));
  }
  if (op == "argmax" || op == "argmin") {
    c10::optional<int64_t> d;
    if (dims) d = (*dims)[0];
    return wrap(env, op == "argmax" ? at::argmax(a, d, keep) : at::argmin(a, d, keep));
  }
  if (op == "max" || op == "min") {  // with indices along one dim
    if (!dims) return wrap(env, op == "max" ? at::max(a) : at::min(a));
    auto r = op == "max" ? at::max(a, (*dims)[0], keep) : at::min(a, (*dims)[0], keep);
    return wrapList(env, {std::get<0>(r), std::get<1>(r)});
  }
  if (op == "cumsum") return wrap(env, at::cumsum(a, (*dims)[0]));
  throw JsError{"unknown reduction '" + op + "'"};
}

CIVET_FN(topk) {
  auto r = at::topk(tensorArg(env, argv[0]), intArg(env, argv[1]), intArg(env, argv[2]), boolArg(env, argv[3]),
                    boolArg(env, argv[4]));
  return wrapList(env, {std::get<0>(r), std::get<1>(r)});
}
CIVET_FN(sort) {
  auto r = at::sort(tensorArg(env, argv[0]), c10::optional<bool>(boolArg(env, argv[3])), intArg(env, argv[1]),
                    boolArg(env, argv[2]));
  return wrapList(env, {std::get<0>(r), std::get<1>(r)});
}

// ---- shapes and indexing -----------------------------------------------------------------

CIVET_FN(reshape) { return wrap(env, tensorArg(env, argv[0]).reshape(intListArg(env, argv[1], "shape"))); }
CIVET_FN(view) { return wrap(env, tensorArg(env, argv[0]).view(intListArg(env, argv[1], "shape"))); }
CIVET_FN(permute) { return wrap(env, tensorArg(env, argv[0]).permute(intListArg(env, argv[1], "dims"))); }
CIVET_FN(transpose) { return wrap(env, tensorArg(env, argv[0]).transpose(intArg(env, argv[1]), intArg(env, argv[2]))); }
CIVET_FN(flatten) { return wrap(env, tensorArg(env, argv[0]).flatten(intArg(env, argv[1]), intArg(env, argv[2]))); }
CIVET_FN(squeeze) {
  auto& a = tensorArg(env, argv[0]);
  if (isNullish(env, argv[1])) return wrap(env, a.squeeze());
  return wrap(env, a.squeeze(intArg(env, argv[1])));
}
CIVET_FN(unsqueeze) { return wrap(env, tensorArg(env, argv[0]).unsqueeze(intArg(env, argv[1]))); }
CIVET_FN(expand) { return wrap(env, tensorArg(env, argv[0]).expand(intListArg(env, argv[1], "shape"))); }
CIVET_FN(repeat) { return wrap(env, tensorArg(env, argv[0]).repeat(intListArg(env, argv[1], "repeats"))); }
CIVET_FN(narrow) {
  return wrap(env, tensorArg(env, argv[0]).narrow(intArg(env, argv[1]), intArg(env, argv[2]), intArg(env, argv[3])));
}
CIVET_FN(slice) {
  c10::optional<int64_t> start, end;
  if (!isNullish(env, argv[2])) start = intArg(env, argv[2]);
  if (!isNullish(env, argv[3])) end = intArg(env, argv[3]);
  int64_t step = isNullish(env, argv[4]) ? 1 : intArg(env, argv[4]);
  return wrap(env, tensorArg(env, argv[0]).slice(intArg(env, argv[1]), start, end, step));
}
CIVET_FN(select) { return wrap(env, tensorArg(env, argv[0]).select(intArg(env, argv[1]), intArg(env, argv[2]))); }
CIVET_FN(indexSelect) {
  return wrap(env, at::index_select(tensorArg(env, argv[0]), intArg(env, argv[1]), tensorArg(env, argv[2], "index")));
}
CIVET_FN(gather) {
  return wrap(env, at::gather(tensorArg(env, argv[0]), intArg(env, argv[1]), tensorArg(env, argv[2], "index")));
}
// scatter(t, dim, index, src|value, reduce: ''|'add')
CIVET_FN(scatter) {
  auto& a = tensorArg(env, argv[0]);
  int64_t dim = intArg(env, argv[1]);
  auto& idx = tensorArg(env, argv[2], "index");
  std::string reduce = isNullish(env, argv[4]) ? "" : strArg(env, argv[4]);
  if (reduce == "add") return wrap(env, at::scatter_add(a, dim, idx, tensorArg(env, argv[3], "src")));
  if (isTensor(env, argv[3])) return wrap(env, at::scatter(a, dim, idx, tensorArg(env, argv[3], "src")));
  return wrap(env, at::scatter(a, dim, idx, scalarArg(env, argv[3])));
}
CIVET_FN(maskedFill) {
  auto& a = tensorArg(env, argv[0]);
  auto& m = tensorArg(env, argv[1], "mask");
  if (isTensor(env, argv[2])) return wrap(env, at::masked_fill(a, m, tensorArg(env, argv[2])));
  return wrap(env, at::masked_fill(a, m, scalarArg(env, argv[2])));
}
CIVET_FN(where) {
  auto& c = tensorArg(env, argv[0], "condition");
  bool ta = isTensor(env, argv[1]), tb = isTensor(env, argv[2]);
  if (ta && tb) return wrap(env, at::where(c, tensorArg(env, argv[1]), tensorArg(env, argv[2])));
  if (ta) return wrap(env, at::where(c, tensorArg(env, argv[1]), scalarArg(env, argv[2])));
  if (tb) return wrap(env, at::where(c, scalarArg(env, argv[1]), tensorArg(env, argv[2])));
  return wrap(env, at::where(c, scalarArg(env, argv[1]), scalarArg(env, argv[2])));
}
CIVET_FN(indexTensor) {  // t[idx] with one integer/bool index tensor on dim 0
  return wrap(env, tensorArg(env, argv[0]).index({tensorArg(env, argv[1], "index")}));
}
CIVET_FN(cat) { return wrap(env, at::cat(tensorListArg(env, argv[0]), intArg(env, argv[1]))); }
CIVET_FN(stack) { return wrap(env, at::stack(tensorListArg(env, argv[0]), intArg(env, argv[1]))); }
CIVET_FN(split) {
  auto& a = tensorArg(env, argv[0]);
  int64_t dim = intArg(env, argv[2]);
  bool isArr = false;
  napi_is_array(env, argv[1], &isArr);
  if (isArr) return wrapList(env, a.split_with_sizes(intListArg(env, argv[1]), dim));
  return wrapList(env, a.split(intArg(env, argv[1]), dim));
}
CIVET_FN(chunk) { return wrapList(env, tensorArg(env, argv[0]).chunk(intArg(env, argv[1]), intArg(env, argv[2]))); }
CIVET_FN(roll) {
  return wrap(env, at::roll(tensorArg(env, argv[0]), intListArg(env, argv[1]), intListArg(env, argv[2])));
}
CIVET_FN(flip) { return wrap(env, at::flip(tensorArg(env, argv[0]), intListArg(env, argv[1]))); }
CIVET_FN(unfoldDim) {  // Tensor.unfold(dim, size, step): sliding windows as a view
  return wrap(env, tensorArg(env, argv[0]).unfold(intArg(env, argv[1]), intArg(env, argv[2]), intArg(env, argv[3])));
}
CIVET_FN(tril) { return wrap(env, at::tril(tensorArg(env, argv[0]), intArg(env, argv[1]))); }
CIVET_FN(triu) { return wrap(env, at::triu(tensorArg(env, argv[0]), intArg(env, argv[1]))); }
CIVET_FN(clamp) {
  c10::optional<at::Scalar> lo, hi;
  if (!isNullish(env, argv[1])) lo = scalarArg(env, argv[1]);
  if (!isNullish(env, argv[2])) hi = scalarArg(env, argv[2]);
  return wrap(env, at::clamp(tensorArg(env, argv[0]), lo, hi));
}
// to(t, dtype|null, device|null, copy)
CIVET_FN(to) {
  auto& a = tensorArg(env, argv[0]);
  auto dt = optDtypeArg(env, argv[1]);
  auto dev = isNullish(env, argv[2]) ? a.device() : deviceArg(env, argv[2]);
  return wrap(env, a.to(dev, dt.value_or(a.scalar_type()), false, boolArg(env, argv[3])));
}

// ---- linear algebra ----------------------------------------------------------------------

CIVET_FN(baddbmm) {
  return wrap(env, at::baddbmm(tensorArg(env, argv[0]), tensorArg(env, argv[1]), tensorArg(env, argv[2]),
                               scalarArg(env, argv[3]), scalarArg(env, argv[4])));
}
CIVET_FN(addmm) {
  return wrap(env, at::addmm(tensorArg(env, argv[0]), tensorArg(env, argv[1]), tensorArg(env, argv[2]),
                             scalarArg(env, argv[3]), scalarArg(env, argv[4])));
}
CIVET_FN(einsum) { return wrap(env, at::einsum(strArg(env, argv[0]), tensorListArg(env, argv[1]))); }

static napi_value nameTable(napi_env env, const char* const* names, size_t n) {
  napi_value arr;
  napi_create_array_with_length(env, n, &arr);
  for (size_t i = 0; i < n; i++) napi_set_element(env, arr, i, str(env, names[i]));
  return arr;
}

void initOps(napi_env env, napi_value exports) {
  static const Export list[] = {
      {"unary", unary}, {"binary", binary}, {"inplace", inplace}, {"reduce", reduce}, {"topk", topk},
      {"sort", sort}, {"reshape", reshape}, {"view", view}, {"permute", permute}, {"transpose", transpose},
      {"flatten", flatten}, {"squeeze", squeeze}, {"unsqueeze", unsqueeze}, {"expand", expand},
      {"repeat", repeat}, {"narrow", narrow}, {"slice", slice}, {"select", select}, {"indexSelect", indexSelect},
      {"gather", gather}, {"scatter", scatter}, {"maskedFill", maskedFill}, {"where", where},
      {"indexTensor", indexTensor}, {"cat", cat}, {"stack", stack}, {"split", split}, {"chunk", chunk},
      {"roll", roll}, {"flip", flip}, {"unfoldDim", unfoldDim}, {"tril", tril}, {"triu", triu}, {"clamp", clamp},
      {"to", to}, {"baddbmm", baddbmm}, {"addmm", addmm}, {"einsum", einsum},
  };
  registerAll(env, exports, list, sizeof(list) / sizeof(list[0]));
  napi_set_named_property(env, exports, "unaryOps", nameTable(env, kUnaryNames, sizeof(kUnaryNames) / sizeof(char*)));
  napi_set_named_property(env, exports, "binaryOps", nameTable(env, kBinaryNames, sizeof(kBinaryNames) / sizeof(char*)));
}

}  // namespace civet
