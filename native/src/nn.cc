// torch.nn.functional counterparts. Argument order follows the TypeScript wrappers in
// src/tensor/functional.ts, which hold the names and defaults of PyTorch's Python API.
#include "common.h"

namespace civet {

static int64_t reductionArg(napi_env env, napi_value v) {
  if (isNullish(env, v)) return at::Reduction::Mean;
  std::string r = strArg(env, v, "reduction");
  if (r == "none") return at::Reduction::None;
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  throw JsError{"reduction must be 'none', 'mean' or 'sum', got '" + r + "'"};
}

static std::vector<int64_t> ints(napi_env env, napi_value v, const char* what, std::vector<int64_t> dflt) {
  if (isNullish(env, v)) return dflt;
  return intListArg(env, v, what);
}

CIVET_FN(linear) {
  return wrap(env, at::linear(tensorArg(env, argv[0], "input"), tensorArg(env, argv[1], "weight"), optTensorArg(env, argv[2])));
}

// conv(input, weight, bias, stride, padding, dilation, groups) for 1-d and 2-d
CIVET_FN(conv) {
  auto& x = tensorArg(env, argv[0], "input");
  auto& w = tensorArg(env, argv[1], "weight");
  auto b = optTensorArg(env, argv[2]);
  int64_t nd = w.dim() - 2;
  if (nd < 1 || nd > 3) throw JsError{"conv: weight must be 3-d, 4-d or 5-d"};
  std::vector<int64_t> one(nd, 1), zero(nd, 0);
  auto stride = ints(env, argv[3], "stride", one);
  auto dil = ints(env, argv[5], "dilation", one);
  int64_t groups = isNullish(env, argv[6]) ? 1 : intArg(env, argv[6], "groups");
  napi_valuetype pt;
  napi_typeof(env, argv[4], &pt);
  if (pt == napi_string) {
    std::string pad = strArg(env, argv[4]);
    if (nd == 1) return wrap(env, at::conv1d(x, w, b, stride, pad, dil, groups));
    if (nd == 2) return wrap(env, at::conv2d(x, w, b, stride, pad, dil, groups));
    return wrap(env, at::conv3d(x, w, b, stride, pad, dil, groups));
  }
  auto pad = ints(env, argv[4], "padding", zero);
  if (nd == 1) return wrap(env, at::conv1d(x, w, b, stride, pad, dil, groups));
  if (nd == 2) return wrap(env, at::conv2d(x, w, b, stride, pad, dil, groups));
  return wrap(env, at::conv3d(x, w, b, stride, pad, dil, groups));
}

// convTranspose2d(input, weight, bias, stride, padding, outputPadding, groups, dilation)
CIVET_FN(convTranspose2d) {
  std::vector<int64_t> one{1, 1}, zero{0, 0};
  return wrap(env, at::conv_transpose2d(tensorArg(env, argv[0], "input"), tensorArg(env, argv[1], "weight"),
                                        optTensorArg(env, argv[2]), ints(env, argv[3], "stride", one),
                                        ints(env, argv[4], "padding", zero), ints(env, argv[5], "output_padding", zero),
                                        isNullish(env, argv[6]) ? 1 : intArg(env, argv[6]), ints(env, argv[7], "dilation", one)));
}

// maxPool2d(input, kernel, stride, padding, dilation, ceilMode, returnIndices)
CIVET_FN(maxPool2d) {
  auto& x = tensorArg(env, argv[0], "input");
  auto k = intListArg(env, argv[1], "kernel_size");
  auto s = ints(env, argv[2], "stride", k);
  if (s.empty()) s = k;
  auto p = ints(env, argv[3], "padding", {0});
  auto d = ints(env, argv[4], "dilation", {1});
  bool ceil = boolArg(env, argv[5]);
  if (boolArg(env, argv[6])) {
    auto r = at::max_pool2d_with_indices(x, k, s, p, d, ceil);
    return wrapList(env, {std::get<0>(r), std::get<1>(r)});
  }
  return wrap(env, at::max_pool2d(x, k, s, p, d, ceil));
}

// avgPool2d(input, kernel, stride, padding, ceilMode, countIncludePad, divisorOverride)
CIVET_FN(avgPool2d) {
  auto k = intListArg(env, argv[1], "kernel_size");
  auto s = ints(env, argv[2], "stride", k);
  if (s.empty()) s = k;
  c10::optional<int64_t> div;
  if (!isNullish(env, argv[6])) div = intArg(env, argv[6]);
  bool cip = isNullish(env, argv[5]) ? true : boolArg(env, argv[5]);
  return wrap(env, at::avg_pool2d(tensorArg(env, argv[0], "input"), k, s, ints(env, argv[3], "padding", {0}),
                                  boolArg(env, argv[4]), cip, div));
}

CIVET_FN(adaptiveAvgPool2d) {
  return wrap(env, at::adaptive_avg_pool2d(tensorArg(env, argv[0], "input"), intListArg(env, argv[1], "output_size")));
}
CIVET_FN(adaptiveMaxPool2d) {
  auto r = at::adaptive_max_pool2d(tensorArg(env, argv[0], "input"), intListArg(env, argv[1], "output_size"));
  return wrap(env, std::get<0>(r));
}

// batchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps)
CIVET_FN(batchNorm) {
  auto& x = tensorArg(env, argv[0], "input");
  auto rm = optTensorArg(env, argv[1]);
  auto rv = optTensorArg(env, argv[2]);
  bool training = boolArg(env, argv[5]);
  if (!training && (!rm || !rv)) throw JsError{"batch_norm: running_mean and running_var are required in eval mode"};
  if (x.dim() < 2) throw JsError{"batch_norm: expected at least 2-d input, got " + std::to_string(x.dim()) + "-d"};
  if (training) {
    int64_t per = x.numel() / x.size(1);
    if (per <= 1) throw JsError{"batch_norm: expected more than 1 value per channel when training, got input of shape " + c10::str(x.sizes())};
  }
  return wrap(env, at::batch_norm(x, optTensorArg(env, argv[3]), optTensorArg(env, argv[4]), rm, rv, training,
                                  numArg(env, argv[6]), numArg(env, argv[7]), true));
}

CIVET_FN(layerNorm) {
  return wrap(env, at::layer_norm(tensorArg(env, argv[0], "input"), intListArg(env, argv[1], "normalized_shape"),
                                  optTensorArg(env, argv[2]), optTensorArg(env, argv[3]), numArg(env, argv[4]), true));
}
CIVET_FN(groupNorm) {
  return wrap(env, at::group_norm(tensorArg(env, argv[0], "input"), intArg(env, argv[1], "num_groups"),
                                  optTensorArg(env, argv[2]), optTensorArg(env, argv[3]), numArg(env, argv[4]), true));
}
CIVET_FN(dropout) {
  return wrap(env, at::dropout(tensorArg(env, argv[0], "input"), numArg(env, argv[1]), boolArg(env, argv[2])));
}
CIVET_FN(softmax) {
  return wrap(env, at::softmax(tensorArg(env, argv[0], "input"), intArg(env, argv[1], "dim"), optDtypeArg(env, argv[2])));
}
CIVET_FN(logSoftmax) {
  return wrap(env, at::log_softmax(tensorArg(env, argv[0], "input"), intArg(env, argv[1], "dim"), optDtypeArg(env, argv[2])));
}
CIVET_FN(leakyRelu) { return wrap(env, at::leaky_relu(tensorArg(env, argv[0]), scalarArg(env, argv[1]))); }
CIVET_FN(hardtanh) {
  return wrap(env, at::hardtanh(tensorArg(env, argv[0]), scalarArg(env, argv[1]), scalarArg(env, argv[2])));
}
CIVET_FN(elu) { return wrap(env, at::elu(tensorArg(env, argv[0]), scalarArg(env, argv[1]))); }

// interpolate(input, outSize, mode, alignCorners, scales|null) — outSize computed by the caller
CIVET_FN(interpolate) {
  auto& x = tensorArg(env, argv[0], "input");
  auto size = intListArg(env, argv[1], "size");
  std::string mode = strArg(env, argv[2], "mode");
  bool hasAlign = !isNullish(env, argv[3]);
  bool align = hasAlign && boolArg(env, argv[3]);
  c10::optional<double> sh, sw;
  if (!isNullish(env, argv[4])) {
    napi_value e;
    napi_get_element(env, argv[4], 0, &e);
    sh = numArg(env, e);
    napi_get_element(env, argv[4], 1, &e);
    sw = numArg(env, e);
  }
  if (x.dim() != 4 || size.size() != 2) throw JsError{"interpolate: civet supports 4-d input (N,C,H,W) with a 2-d size"};
  if (mode == "nearest") {
    if (hasAlign) throw JsError{"interpolate: align_corners is only valid for linear/bilinear/bicubic modes"};
    return wrap(env, at::upsample_nearest2d(x, size, sh, sw));
  }
  if (mode == "bilinear") return wrap(env, at::upsample_bilinear2d(x, size, align, sh, sw));
  if (mode == "bicubic") return wrap(env, at::upsample_bicubic2d(x, size, align, sh, sw));
  throw JsError{"interpolate: unsupported mode '" + mode + "' (nearest, bilinear, bicubic)"};
}

// im2col(input, kernel, dilation, padding, stride) = F.unfold; col2im = F.fold
CIVET_FN(im2col) {
  return wrap(env, at::im2col(tensorArg(env, argv[0], "input"), intListArg(env, argv[1]), intListArg(env, argv[2]),
                              intListArg(env, argv[3]), intListArg(env, argv[4])));
}
CIVET_FN(col2im) {
  return wrap(env, at::col2im(tensorArg(env, argv[0], "input"), intListArg(env, argv[1]), intListArg(env, argv[2]),
                              intListArg(env, argv[3]), intListArg(env, argv[4]), intListArg(env, argv[5])));
}

// pad(input, pad, mode, value)
CIVET_FN(pad) {
  auto& x = tensorArg(env, argv[0], "input");
  auto p = intListArg(env, argv[1], "pad");
  std::string mode = isNullish(env, argv[2]) ? "constant" : strArg(env, argv[2]);
  if (p.size() % 2) throw JsError{"pad: padding length must be even, got " + std::to_string(p.size())};
  if (mode == "constant") {
    double v = isNullish(env, argv[3]) ? 0.0 : numArg(env, argv[3]);
    return wrap(env, at::constant_pad_nd(x, p, v));
  }
  size_t k = p.size() / 2;
  if (mode == "reflect") {
    if (k == 1) return wrap(env, at::reflection_pad1d(x, p));
    if (k == 2) return wrap(env, at::reflection_pad2d(x, p));
  } else if (mode == "replicate") {
    if (k == 1) return wrap(env, at::replication_pad1d(x, p));
    if (k == 2) return wrap(env, at::replication_pad2d(x, p));
  } else {
    throw JsError{"pad: unknown mode '" + mode + "' (constant, reflect, replicate)"};
  }
  throw JsError{"pad: mode '" + mode + "' supports 1-d and 2-d padding"};
}

CIVET_FN(cdist) { return wrap(env, at::cdist(tensorArg(env, argv[0], "x1"), tensorArg(env, argv[1], "x2"), numArg(env, argv[2]))); }
CIVET_FN(cosineSimilarity) {
  return wrap(env, at::cosine_similarity(tensorArg(env, argv[0], "x1"), tensorArg(env, argv[1], "x2"), intArg(env, argv[2]),
                                         numArg(env, argv[3])));
}
CIVET_FN(oneHot) { return wrap(env, at::one_hot(tensorArg(env, argv[0]), intArg(env, argv[1]))); }
CIVET_FN(embedding) {
  return wrap(env, at::embedding(tensorArg(env, argv[0], "weight"), tensorArg(env, argv[1], "input"),
                                 isNullish(env, argv[2]) ? -1 : intArg(env, argv[2])));
}

// crossEntropy(input, target, weight, reduction, ignoreIndex, labelSmoothing)
CIVET_FN(crossEntropy) {
  auto& x = tensorArg(env, argv[0], "input");
  auto& y = tensorArg(env, argv[1], "target");
  if (x.dim() < 1) throw JsError{"cross_entropy: input must have a class dimension"};
  if (!at::isFloatingType(y.scalar_type()) && y.dim() != x.dim() - 1 && !(x.dim() == 1 && y.dim() == 0))
    throw JsError{"cross_entropy: class-index target of shape " + c10::str(y.sizes()) + " does not fit input " +
                  c10::str(x.sizes())};
  if (at::isFloatingType(y.scalar_type()) && y.sizes() != x.sizes())
    throw JsError{"cross_entropy: a floating-point target holds class probabilities and must have the input's shape " +
                  c10::str(x.sizes()) + ", got " + c10::str(y.sizes()) + " (class indices must be int64)"};
  int64_t ignore = isNullish(env, argv[4]) ? -100 : intArg(env, argv[4]);
  double ls = isNullish(env, argv[5]) ? 0.0 : numArg(env, argv[5]);
  return wrap(env, at::cross_entropy_loss(x, y, optTensorArg(env, argv[2]), reductionArg(env, argv[3]), ignore, ls));
}
CIVET_FN(nllLoss) {
  int64_t ignore = isNullish(env, argv[4]) ? -100 : intArg(env, argv[4]);
  return wrap(env, at::nll_loss_nd(tensorArg(env, argv[0], "input"), tensorArg(env, argv[1], "target"),
                                   optTensorArg(env, argv[2]), reductionArg(env, argv[3]), ignore));
}
// klDiv(input, target, reduction(none|sum|mean), logTarget) — 'batchmean' is done by the caller
CIVET_FN(klDiv) {
  return wrap(env, at::kl_div(tensorArg(env, argv[0], "input"), tensorArg(env, argv[1], "target"), reductionArg(env, argv[2]),
                              boolArg(env, argv[3])));
}
CIVET_FN(mseLoss) {
  return wrap(env, at::mse_loss(tensorArg(env, argv[0], "input"), tensorArg(env, argv[1], "target"), reductionArg(env, argv[2])));
}
CIVET_FN(l1Loss) {
  return wrap(env, at::l1_loss(tensorArg(env, argv[0], "input"), tensorArg(env, argv[1], "target"), reductionArg(env, argv[2])));
}
CIVET_FN(smoothL1Loss) {
  return wrap(env, at::smooth_l1_loss(tensorArg(env, argv[0], "input"), tensorArg(env, argv[1], "target"),
                                      reductionArg(env, argv[2]), numArg(env, argv[3])));
}
// bceWithLogits(input, target, weight, posWeight, reduction)
CIVET_FN(bceWithLogits) {
  return wrap(env, at::binary_cross_entropy_with_logits(tensorArg(env, argv[0], "input"), tensorArg(env, argv[1], "target"),
                                                        optTensorArg(env, argv[2]), optTensorArg(env, argv[3]),
                                                        reductionArg(env, argv[4])));
}
CIVET_FN(bce) {
  return wrap(env, at::binary_cross_entropy(tensorArg(env, argv[0], "input"), tensorArg(env, argv[1], "target"),
                                            optTensorArg(env, argv[2]), reductionArg(env, argv[3])));
}

// Fused attention exists from libtorch 2.0; callers fall back to the explicit form otherwise.
CIVET_FN(hasSdpa) {
#if TORCH_VERSION_MAJOR >= 2
  return boolean(env, true);
#else
  return boolean(env, false);
#endif
}
CIVET_FN(sdpa) {
#if TORCH_VERSION_MAJOR >= 2
  return wrap(env, at::scaled_dot_product_attention(tensorArg(env, argv[0], "query"), tensorArg(env, argv[1], "key"),
                                                    tensorArg(env, argv[2], "value"), optTensorArg(env, argv[3]),
                                                    numArg(env, argv[4]), boolArg(env, argv[5])));
#else
  throw JsError{"scaled_dot_product_attention needs libtorch 2.x"};
#endif
}

void initNN(napi_env env, napi_value exports) {
  static const Export list[] = {
      {"linear", linear}, {"conv", conv}, {"convTranspose2d", convTranspose2d}, {"maxPool2d", maxPool2d},
      {"avgPool2d", avgPool2d}, {"adaptiveAvgPool2d", adaptiveAvgPool2d}, {"adaptiveMaxPool2d", adaptiveMaxPool2d},
      {"batchNorm", batchNorm}, {"layerNorm", layerNorm}, {"groupNorm", groupNorm}, {"dropout", dropout},
      {"softmax", softmax}, {"logSoftmax", logSoftmax}, {"leakyRelu", leakyRelu}, {"hardtanh", hardtanh}, {"elu", elu},
      {"interpolate", interpolate}, {"im2col", im2col}, {"col2im", col2im}, {"pad", pad}, {"cdist", cdist},
      {"cosineSimilarity", cosineSimilarity}, {"oneHot", oneHot}, {"embedding", embedding},
      {"crossEntropy", crossEntropy}, {"nllLoss", nllLoss}, {"klDiv", klDiv}, {"mseLoss", mseLoss}, {"l1Loss", l1Loss},
      {"smoothL1Loss", smoothL1Loss}, {"bceWithLogits", bceWithLogits}, {"bce", bce}, {"hasSdpa", hasSdpa}, {"sdpa", sdpa},
  };
  registerAll(env, exports, list, sizeof(list) / sizeof(list[0]));
}

}  // namespace civet
