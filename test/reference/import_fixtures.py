"""State dicts as PyTorch users save them, for civet import's tests.

  resnet18_torchvision.safetensors  torchvision.models.resnet18(num_classes=10), seeded random
                                    weights and BatchNorm statistics, torchvision's names
  deit_timm.safetensors             a distilled DeiT under timm's names (cls_token, dist_token,
                                    pos_embed, patch_embed.proj, blocks.N.{norm1, attn.qkv,
                                    attn.proj, norm2, mlp.fc1, mlp.fc2}, norm, head, head_dist),
                                    small: 16x16 images, 4x4 patches, width 32, 2 blocks, 2 heads
  reference.safetensors             the inputs and each model's logits (eval mode)

timm is not installed, so the DeiT forward is written out below after timm's VisionTransformer
(timm/models/vision_transformer.py: pre-norm blocks, LayerNorm eps 1e-6, exact GELU, logits of
the eval-mode distilled model = (head(cls) + head_dist(dist)) / 2, as timm's
VisionTransformerDistilled and facebookresearch/deit's DistilledVisionTransformer).
The safetensors files are written here directly (the format: an 8-byte little-endian header
length, a JSON header of dtype/shape/offsets, then the raw little-endian data), so the Python
safetensors package is not needed; with it the two-line recipe is
    from safetensors.torch import save_file; save_file(model.state_dict(), 'model.safetensors')

Usage: python3 test/reference/import_fixtures.py OUT_DIR
"""
import json
import struct
import sys
import os

import torch
import torch.nn.functional as F
import torchvision

DT = {torch.float32: 'F32', torch.int64: 'I64'}


def save_file(tensors, path, metadata=None):
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        t = t.detach().contiguous().cpu()
        b = t.numpy().tobytes()
        header[k] = {'dtype': DT[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header['__metadata__'] = metadata
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def resnet18():
    torch.manual_seed(0)
    m = torchvision.models.resnet18(num_classes=10)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.normal_(0, 0.1)
                mod.running_mean.normal_(0, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
    return m.eval()


D, DEPTH, HEADS, PATCH, IMG, K = 32, 2, 2, 4, 16, 10


def deit_state():
    g = torch.Generator().manual_seed(1)
    r = lambda *s, std=0.05: torch.randn(*s, generator=g) * std
    n = (IMG // PATCH) ** 2
    sd = {'cls_token': r(1, 1, D, std=0.5), 'dist_token': r(1, 1, D, std=0.5), 'pos_embed': r(1, n + 2, D, std=0.5),
          'patch_embed.proj.weight': r(D, 3, PATCH, PATCH, std=0.2), 'patch_embed.proj.bias': r(D)}
    for i in range(DEPTH):
        p = f'blocks.{i}.'
        sd.update({p + 'norm1.weight': 1 + r(D), p + 'norm1.bias': r(D),
                   p + 'attn.qkv.weight': r(3 * D, D, std=0.2), p + 'attn.qkv.bias': r(3 * D),
                   p + 'attn.proj.weight': r(D, D, std=0.2), p + 'attn.proj.bias': r(D),
                   p + 'norm2.weight': 1 + r(D), p + 'norm2.bias': r(D),
                   p + 'mlp.fc1.weight': r(4 * D, D, std=0.2), p + 'mlp.fc1.bias': r(4 * D),
                   p + 'mlp.fc2.weight': r(D, 4 * D, std=0.1), p + 'mlp.fc2.bias': r(D)})
    sd.update({'norm.weight': 1 + r(D), 'norm.bias': r(D), 'head.weight': r(K, D, std=0.3), 'head.bias': r(K),
               'head_dist.weight': r(K, D, std=0.3), 'head_dist.bias': r(K)})
    return sd


def deit_forward(sd, x):
    B = x.shape[0]
    t = F.conv2d(x, sd['patch_embed.proj.weight'], sd['patch_embed.proj.bias'], stride=PATCH).flatten(2).transpose(1, 2)
    t = torch.cat([sd['cls_token'].expand(B, -1, -1), sd['dist_token'].expand(B, -1, -1), t], 1) + sd['pos_embed']
    hd = D // HEADS
    for i in range(DEPTH):
        p = f'blocks.{i}.'
        h = F.layer_norm(t, (D,), sd[p + 'norm1.weight'], sd[p + 'norm1.bias'], 1e-6)
        N = h.shape[1]
        qkv = F.linear(h, sd[p + 'attn.qkv.weight'], sd[p + 'attn.qkv.bias']).reshape(B, N, 3, HEADS, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = ((q * hd ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
        o = (a @ v).transpose(1, 2).reshape(B, N, D)
        t = t + F.linear(o, sd[p + 'attn.proj.weight'], sd[p + 'attn.proj.bias'])
        h = F.layer_norm(t, (D,), sd[p + 'norm2.weight'], sd[p + 'norm2.bias'], 1e-6)
        t = t + F.linear(F.gelu(F.linear(h, sd[p + 'mlp.fc1.weight'], sd[p + 'mlp.fc1.bias'])), sd[p + 'mlp.fc2.weight'], sd[p + 'mlp.fc2.bias'])
    t = F.layer_norm(t, (D,), sd['norm.weight'], sd['norm.bias'], 1e-6)
    return (F.linear(t[:, 0], sd['head.weight'], sd['head.bias']) + F.linear(t[:, 1], sd['head_dist.weight'], sd['head_dist.bias'])) / 2


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(2)
    x_res = torch.randn(4, 3, 64, 64)
    x_deit = torch.randn(4, 3, IMG, IMG)
    m = resnet18()
    with torch.no_grad():
        y_res = m(x_res)
        sd = deit_state()
        y_deit = deit_forward(sd, x_deit)
    save_file(m.state_dict(), os.path.join(out, 'resnet18_torchvision.safetensors'))
    save_file(sd, os.path.join(out, 'deit_timm.safetensors'))
    save_file({'resnet18.x': x_res, 'resnet18.logits': y_res, 'deit.x': x_deit, 'deit.logits': y_deit}, os.path.join(out, 'reference.safetensors'),
              {'torch': torch.__version__, 'torchvision': torchvision.__version__})
    print(json.dumps({'resnet18': list(y_res.shape), 'deit': list(y_deit.shape)}))


if __name__ == '__main__':
    main(sys.argv[1])
