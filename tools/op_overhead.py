"""PyTorch's side of `vqgan-clip bench`'s op_overhead_us: the fixed cost of one call on one-element float32 tensors
(the arithmetic is nothing: what is timed is Python, the dispatcher, the output's allocation and its release).
  /usr/bin/python3 tools/op_overhead.py [--threads T]      -> one JSON line, microseconds per call (median of 5 rounds)
"""
import argparse, json, statistics, time
import torch


def per_call(fn, calls, rounds=5):
    fn(calls)
    out = []
    for _ in range(rounds):
        t = time.perf_counter(); fn(calls); out.append((time.perf_counter() - t) / calls * 1e6)
    return statistics.median(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--calls", type=int, default=20000)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    x, y = torch.ones(1), torch.ones(1)
    g = torch.ones(1, requires_grad=True)

    def add_new(n):
        for _ in range(n):
            x.add(y)

    def add_in_place(n):
        with torch.no_grad():
            for _ in range(n):
                x.add_(y)

    def add_grad(n):
        for _ in range(n):
            g.add(y)

    def item(n):
        t = 0.0
        for _ in range(n):
            t += y.item()

    def shape(n):
        t = 0
        for _ in range(n):
            t += x.shape[0]

    r = {k: round(per_call(f, a.calls), 3) for k, f in
         [("add_new_tensor", add_new), ("add_in_place", add_in_place), ("add_recorded_for_autograd", add_grad),
          ("item", item), ("shape", shape)]}
    print(json.dumps({"kind": "op_overhead_us", "torch": torch.__version__, "threads": torch.get_num_threads(), **r}))


if __name__ == "__main__":
    main()
