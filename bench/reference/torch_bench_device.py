#!/usr/bin/env python3
"""torch_bench.py's train workloads and op-overhead on a chosen device (e.g. cuda), for GPU
figures beside `civet bench WORKLOAD --device cuda`. Same models, optimizers and timing rule
(median step after 3 warm-ups), with torch.cuda.synchronize() before each clock read.

  python3 torch_bench_device.py --workload vit-ti32 --device cuda --batch 256 --steps 20
"""
import argparse, json, os, statistics, sys, time
import torch
import torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_bench  # noqa: E402


def sync(dev):
    if dev.startswith("cuda"):
        torch.cuda.synchronize()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workload", required=True)
    p.add_argument("--device", default="cuda")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--classes", type=int, default=10)
    a = p.parse_args()
    dev = a.device
    if a.workload == "op-overhead":
        x, y = torch.randn(1, device=dev), torch.randn(1, device=dev)
        n = 200_000
        with torch.no_grad():
            for _ in range(1000):
                x.add(y)
            sync(dev)
            t = time.perf_counter()
            for _ in range(n):
                x.add(y)
            sync(dev)
            out = {"ns_per_op": (time.perf_counter() - t) / n * 1e9}
    else:
        torch.manual_seed(0)
        m, opt = torch_bench.build(a.workload, a.classes)
        m.to(dev).train()
        x = torch.randn(a.batch, 3, 32, 32, device=dev)
        y = torch.randint(0, a.classes, (a.batch,), device=dev)

        def step():
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(m(x), y).backward()
            opt.step()

        for _ in range(3):
            step()
        sync(dev)
        times = []
        for _ in range(a.steps):
            t = time.perf_counter()
            step()
            sync(dev)
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        out = {"step_ms_median": med * 1e3, "images_per_s": a.batch / med, "params": sum(q.numel() for q in m.parameters())}
    out.update({"workload": a.workload, "batch": a.batch, "device": dev, "torch": torch.__version__, "front_end": "python"})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
