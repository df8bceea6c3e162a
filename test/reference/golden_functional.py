#!/usr/bin/env python3
"""A golden `op` case for every public function of civet's F (src/tensor/functional.ts), computed by
PyTorch, for src/conformance/cases/functional.test.ts. Format: shared/golden/README.md.

  /usr/bin/python3 test/reference/golden_functional.py test/fixtures/golden/functional.json

Needs Debian's python3-torch (1.13). Inputs and options carry torch.nn.functional's own argument
names; references are computed in float64 from float32 inputs and stored as float32.
"""
import json, math, sys
import torch
import torch.nn.functional as F

DT = torch.float64
SEED = 20261201


def enc(t):
    t = t.detach()
    kind = {torch.float32: "float32", torch.float64: "float32", torch.int64: "int64", torch.bool: "bool"}[t.dtype]
    data = t.to(torch.float32).reshape(-1).tolist() if kind == "float32" else t.reshape(-1).tolist()
    return {"dtype": kind, "shape": list(t.shape), "data": data}


def r(g, *shape, scale=1.0, shift=0.0):
    return (torch.randn(*shape, generator=g, dtype=torch.float32) * scale + shift).to(DT)


def case(name, fn, inputs, options, g, nograd=(), state=(), tol=None):
    """Output of fn(**inputs, **options) and the gradients of sum(output * grad_output) with respect
    to every floating input not in nograd/state."""
    for k, v in inputs.items():
        if v.is_floating_point() and k not in nograd and k not in state:
            v.requires_grad_(True)
    encoded = {k: enc(v) for k, v in inputs.items()}
    out = fn(**inputs, **options)
    c = {"kind": "op", "name": name, "inputs": encoded, "options": options, "expected": {"output": enc(out)}}
    names = [k for k, v in inputs.items() if v.requires_grad]
    if names and out.is_floating_point():
        go = torch.randn(out.shape, generator=g, dtype=torch.float32).to(out.dtype) if out.dim() else torch.tensor(1.0, dtype=out.dtype)
        gs = torch.autograd.grad(out, [inputs[k] for k in names], grad_outputs=go, allow_unused=True)
        c["grad_output"] = enc(go)
        c["expected"]["grad"] = {k: enc(v) for k, v in zip(names, gs) if v is not None}
    if state:
        c["expected"]["state"] = {k: enc(inputs[k]) for k in state}
    if tol:
        c["tol"] = tol
    return c


def sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False):
    # torch 1.13 has no F.scaled_dot_product_attention; this is its documented definition
    L, S = query.shape[-2], key.shape[-2]
    att = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if is_causal:
        att = att.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), float("-inf"))
    return F.softmax(att, -1) @ value


def cases(g):
    B = 2
    idx = lambda hi, *shape: torch.randint(0, hi, shape, generator=g)
    rm, rv = r(g, 3), r(g, 3).abs() + 0.5
    yield case("adaptive_avg_pool2d", F.adaptive_avg_pool2d, {"input": r(g, B, 3, 7, 5)}, {"output_size": [2, 3]}, g)
    yield case("adaptive_max_pool2d", F.adaptive_max_pool2d, {"input": r(g, B, 3, 7, 5)}, {"output_size": [3, 2]}, g)
    yield case("avg_pool2d", F.avg_pool2d, {"input": r(g, B, 2, 7, 7)}, {"kernel_size": [3, 3], "stride": [2, 2], "padding": [1, 1], "count_include_pad": False}, g)
    yield case("batch_norm", F.batch_norm, {"input": r(g, 4, 3, 3, 3), "running_mean": rm.clone(), "running_var": rv.clone(), "weight": r(g, 3), "bias": r(g, 3)},
               {"training": True, "momentum": 0.2, "eps": 1e-5}, g, state=("running_mean", "running_var"))
    p = torch.sigmoid(r(g, 4, 5))
    yield case("binary_cross_entropy", F.binary_cross_entropy, {"input": p.detach().clone(), "target": torch.rand(4, 5, generator=g).to(DT), "weight": r(g, 5).abs()},
               {"reduction": "mean"}, g, nograd=("target", "weight"))
    yield case("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits,
               {"input": r(g, 4, 5, scale=2), "target": torch.rand(4, 5, generator=g).to(DT), "pos_weight": r(g, 5).abs() + 0.5},
               {"reduction": "sum"}, g, nograd=("target", "pos_weight"))
    yield case("cdist", torch.cdist, {"x1": r(g, 5, 4), "x2": r(g, 6, 4)}, {"p": 1.0}, g)
    yield case("conv1d", F.conv1d, {"input": r(g, B, 4, 9), "weight": r(g, 6, 2, 3), "bias": r(g, 6)}, {"stride": 2, "padding": 1, "dilation": 1, "groups": 2}, g)
    yield case("conv2d", F.conv2d, {"input": r(g, B, 3, 6, 6), "weight": r(g, 4, 3, 3, 3), "bias": r(g, 4)}, {"stride": [2, 2], "padding": [1, 1]}, g)
    yield case("conv_transpose2d", F.conv_transpose2d, {"input": r(g, B, 4, 4, 4), "weight": r(g, 4, 3, 3, 3), "bias": r(g, 6)},
               {"stride": [2, 2], "padding": [1, 1], "output_padding": [1, 1], "groups": 2, "dilation": [1, 1]}, g)
    yield case("cosine_similarity", F.cosine_similarity, {"x1": r(g, 5, 4), "x2": r(g, 5, 4)}, {"dim": 1, "eps": 1e-8}, g)
    yield case("cross_entropy", F.cross_entropy, {"input": r(g, 6, 10, scale=2), "target": idx(10, 6), "weight": r(g, 10).abs()},
               {"ignore_index": 3, "label_smoothing": 0.1}, g, nograd=("weight",))
    yield case("dropout", F.dropout, {"input": r(g, 4, 5)}, {"p": 0.3, "training": False}, g)
    yield case("elu", F.elu, {"input": r(g, 4, 5, scale=2)}, {"alpha": 0.7}, g)
    yield case("embedding", F.embedding, {"input": idx(7, 3, 4), "weight": r(g, 7, 5)}, {"padding_idx": 2}, g)
    yield case("fold", F.fold, {"input": r(g, B, 3 * 2 * 2, 9)}, {"output_size": [4, 4], "kernel_size": [2, 2], "stride": [1, 1]}, g)
    yield case("gelu", F.gelu, {"input": r(g, 4, 5, scale=2)}, {"approximate": "tanh"}, g)
    yield case("group_norm", F.group_norm, {"input": r(g, B, 6, 3, 3), "weight": r(g, 6), "bias": r(g, 6)}, {"num_groups": 2, "eps": 1e-5}, g)
    yield case("hardsigmoid", F.hardsigmoid, {"input": r(g, 4, 5, scale=4)}, {}, g)
    yield case("hardswish", F.hardswish, {"input": r(g, 4, 5, scale=4)}, {}, g)
    yield case("hardtanh", F.hardtanh, {"input": r(g, 4, 5, scale=2)}, {"min_val": -0.5, "max_val": 1.5}, g)
    yield case("interpolate", F.interpolate, {"input": r(g, B, 2, 4, 4)}, {"scale_factor": 2.0, "mode": "nearest"}, g)
    yield case("kl_div", F.kl_div, {"input": F.log_softmax(r(g, 6, 10), -1).detach(), "target": F.log_softmax(r(g, 6, 10), -1).detach()},
               {"reduction": "sum", "log_target": True}, g, nograd=("target",))
    yield case("l1_loss", F.l1_loss, {"input": r(g, 6, 10), "target": r(g, 6, 10)}, {"reduction": "mean"}, g, nograd=("target",))
    yield case("layer_norm", F.layer_norm, {"input": r(g, B, 5, 8), "weight": r(g, 8), "bias": r(g, 8)}, {"normalized_shape": [8], "eps": 1e-5}, g)
    yield case("leaky_relu", F.leaky_relu, {"input": r(g, 4, 5)}, {"negative_slope": 0.2}, g)
    yield case("linear", F.linear, {"input": r(g, B, 5, 6), "weight": r(g, 7, 6), "bias": r(g, 7)}, {}, g)
    yield case("log_softmax", F.log_softmax, {"input": r(g, B, 11, scale=3)}, {"dim": -1}, g)
    yield case("logsigmoid", F.logsigmoid, {"input": r(g, 4, 5, scale=3)}, {}, g)
    yield case("max_pool2d", F.max_pool2d, {"input": r(g, B, 2, 7, 7)}, {"kernel_size": [3, 3], "stride": [2, 2], "padding": [1, 1], "ceil_mode": True}, g)
    yield case("mish", F.mish, {"input": r(g, 4, 5, scale=2)}, {}, g)
    yield case("mse_loss", F.mse_loss, {"input": r(g, 6, 10), "target": r(g, 6, 10)}, {"reduction": "sum"}, g, nograd=("target",))
    yield case("nll_loss", F.nll_loss, {"input": F.log_softmax(r(g, 6, 10), -1).detach(), "target": idx(10, 6), "weight": r(g, 10).abs()},
               {"reduction": "mean"}, g, nograd=("weight",))
    yield case("normalize", F.normalize, {"input": r(g, 6, 10)}, {"p": 1.0, "dim": 0}, g)
    yield case("one_hot", F.one_hot, {"input": idx(5, 6)}, {"num_classes": 7}, g)
    yield case("pad", F.pad, {"input": r(g, B, 2, 4, 4)}, {"pad": [1, 2, 2, 1], "mode": "reflect"}, g)
    yield case("relu", F.relu, {"input": r(g, 4, 5)}, {}, g)
    yield case("relu6", F.relu6, {"input": r(g, 4, 5, scale=5)}, {}, g)
    yield case("scaled_dot_product_attention", sdpa, {"query": r(g, B, 2, 5, 4), "key": r(g, B, 2, 5, 4), "value": r(g, B, 2, 5, 4)}, {"is_causal": True}, g)
    yield case("sigmoid", torch.sigmoid, {"input": r(g, 4, 5, scale=2)}, {}, g)
    yield case("silu", F.silu, {"input": r(g, 4, 5, scale=2)}, {}, g)
    yield case("smooth_l1_loss", F.smooth_l1_loss, {"input": r(g, 6, 10), "target": r(g, 6, 10)}, {"beta": 0.5, "reduction": "mean"}, g, nograd=("target",))
    yield case("softmax", F.softmax, {"input": r(g, B, 3, 7, scale=3)}, {"dim": 1}, g)
    yield case("softplus", F.softplus, {"input": r(g, 4, 5, scale=3)}, {}, g)
    yield case("tanh", torch.tanh, {"input": r(g, 4, 5, scale=2)}, {}, g)
    yield case("unfold", F.unfold, {"input": r(g, B, 2, 5, 5)}, {"kernel_size": [2, 3], "dilation": [1, 1], "padding": [1, 0], "stride": [1, 2]}, g)


if __name__ == "__main__":
    g = torch.Generator().manual_seed(SEED)
    out = {"generator": "test/reference/golden_functional.py", "torch": torch.__version__, "seed": SEED,
           "default_tol": {"atol": 1e-4, "rtol": 1e-4}, "cases": list(cases(g))}
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)
    print(f"{sys.argv[1]}: {len(out['cases'])} cases")
