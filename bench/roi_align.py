"""RoIAlign speed and agreement: keras_zoo.ops.roi_align (both implementations)
against torchvision.ops.roi_align on identical inputs (CPU).

Features 2x200x304x256 (P2 of an 800x1216 image, spatial scale 1/4), 1000
random proposal-like boxes, output 7x7 and 14x14, sampling ratio 2, aligned.
Prints one JSON line per (contender, output size): median forward and
forward+backward wall seconds and CPU seconds (all threads) over `--repeats`
alternating rounds, their ratios to torchvision, and the max abs difference of
outputs and feature gradients. `--tf-threads` / `--torch-threads` set the thread
pools; `taskset -c 0 ...` gives both libraries one CPU.

Run (torch and torchvision must be importable next to tensorflow):
    /work/benchenv/bin/python bench/roi_align.py --repeats 5

Measured 2026-11-28 on the 2-core dev machine (TF 2.21, torch 2.14.1,
torchvision 0.29.1, medians of 9):
    7x7   forward 0.065 s vs 0.545 s (0.119x), forward+backward 0.162 s vs 1.899 s (0.085x)
    14x14 forward 0.195 s vs 1.241 s (0.157x), forward+backward 0.379 s vs 5.462 s (0.069x)
    gather path: 7x7 0.34x / 0.21x, 14x14 0.55x / 0.30x
    max |diff| to torchvision: outputs 2.0e-4 (7x7) / 2.3e-4 (14x14), feature gradients
    1.4e-4 / 3.0e-4, on N(0, 1) maps: float32 rounding of sample coordinates up to
    ~300 px (torchvision itself is 9.6e-5 from a float64 reference on the same boxes).
With boxes visited in raster order, one run with the 2 cores loaded by other jobs
(--repeats 5), 7x7: forward 0.047 s vs 0.400 s (0.119x wall; CPU seconds 0.156x),
forward+backward 0.124x wall (0.125x CPU); pinned to one CPU (taskset -c 0): 0.127x /
0.099x CPU; with oneDNN capped at AVX2 (ONEDNN_MAX_CPU_ISA=AVX2): 0.156x / 0.105x CPU.
"""

import argparse
import os
import time

import numpy as np
import torch  # noqa: I001  (torchvision must be imported before tensorflow)
import torchvision

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402

from keras_zoo import ops  # noqa: E402

from _report import emit  # noqa: E402

IMAGE_H, IMAGE_W, STRIDE = 800, 1216, 4


def make_inputs(num_boxes, channels, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((2, IMAGE_H // STRIDE, IMAGE_W // STRIDE, channels))
    x1, y1 = rng.uniform(0, IMAGE_W, num_boxes), rng.uniform(0, IMAGE_H, num_boxes)
    w, h = rng.uniform(8, 400, num_boxes), rng.uniform(8, 400, num_boxes)
    boxes = np.stack([x1, y1, np.minimum(x1 + w, IMAGE_W), np.minimum(y1 + h, IMAGE_H)], 1)
    box_indices = rng.integers(0, 2, num_boxes)
    return features.astype(np.float32), boxes.astype(np.float32), box_indices.astype(np.int32)


def torch_contender(features, boxes, box_indices, size):
    feats = torch.from_numpy(np.ascontiguousarray(features.transpose(0, 3, 1, 2)))
    rois = torch.from_numpy(np.concatenate([box_indices[:, None], boxes], 1).astype(np.float32))
    weight = torch.from_numpy(np.random.default_rng(1).standard_normal(
        (len(boxes), features.shape[-1], size, size)).astype(np.float32))

    def forward():
        with torch.no_grad():
            return torchvision.ops.roi_align(feats, rois, size, 1.0 / STRIDE, 2, True)

    def forward_backward():
        leaf = feats.clone().requires_grad_(True)
        out = torchvision.ops.roi_align(leaf, rois, size, 1.0 / STRIDE, 2, True)
        (out * weight).sum().backward()
        return out, leaf.grad

    def to_nhwc(out, grad):
        return out.detach().numpy().transpose(0, 2, 3, 1), grad.numpy().transpose(0, 2, 3, 1)

    return forward, forward_backward, to_nhwc


def tf_contender(features, boxes, box_indices, size, implementation):
    feats, rois, ids = tf.constant(features), tf.constant(boxes), tf.constant(box_indices)
    weight = tf.constant(np.random.default_rng(1).standard_normal(
        (len(boxes), features.shape[-1], size, size)).astype(np.float32).transpose(0, 2, 3, 1))

    def call(f):
        return ops.roi_align(f, rois, ids, size, spatial_scale=1.0 / STRIDE, sampling_ratio=2,
                             aligned=True, implementation=implementation)

    forward = tf.function(call)

    @tf.function
    def forward_backward():
        with tf.GradientTape() as tape:
            tape.watch(feats)
            out = call(feats)
            loss = tf.reduce_sum(out * weight)
        return out, tape.gradient(loss, feats)

    def sync_forward():
        return forward(feats).numpy()

    def sync_forward_backward():
        out, grad = forward_backward()
        return out.numpy(), grad.numpy()

    return sync_forward, sync_forward_backward, lambda out, grad: (out, grad)


def timed(fn, settle_s=0.5):
    """`(wall seconds, CPU seconds of the process)` for one call, started after a
    pause: the previous contender's worker threads (torch's OpenMP pool spins after
    each op) go idle first. CPU seconds add up every thread's work: they show what
    a call costs however many cores it gets, and barely move when other jobs load
    the machine (wall seconds do)."""
    time.sleep(settle_s)
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--boxes", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=256)
    parser.add_argument("--sizes", type=int, nargs="+", default=[7, 14])
    parser.add_argument("--tf-threads", type=int, default=0,
                        help="TF intra- and inter-op threads (0: TF's default)")
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="torch intra-op threads (0: torch's default)")
    args = parser.parse_args()
    if args.tf_threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.tf_threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.tf_threads)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    features, boxes, box_indices = make_inputs(args.boxes, args.channels)
    for size in args.sizes:
        contenders = {"torchvision": torch_contender(features, boxes, box_indices, size)}
        for implementation in ("crop_and_resize", "gather"):
            contenders[f"keras_zoo_{implementation}"] = tf_contender(
                features, boxes, box_indices, size, implementation)
        times = {name: {k: [] for k in ("forward", "forward_backward", "forward_cpu",
                                          "forward_backward_cpu")} for name in contenders}
        results = {}
        for name, (fwd, fwd_bwd, _) in contenders.items():  # warm-up (tracing)
            fwd()
            results[name] = contenders[name][2](*fwd_bwd())
        for _ in range(args.repeats):  # alternate contenders each round
            for name, (fwd, fwd_bwd, _) in contenders.items():
                for task, fn in (("forward", fwd), ("forward_backward", fwd_bwd)):
                    wall, cpu = timed(fn)
                    times[name][task].append(wall)
                    times[name][f"{task}_cpu"].append(cpu)
        ref_out, ref_grad = results["torchvision"]
        base = {k: float(np.median(v)) for k, v in times["torchvision"].items()}
        for name in contenders:
            med = {k: float(np.median(v)) for k, v in times[name].items()}
            out, grad = results[name]
            emit({
                "bench": "roi_align", "contender": name, "output_size": size,
                "features": list(features.shape), "boxes": args.boxes, "sampling_ratio": 2,
                "aligned": True, "repeats": args.repeats,
                "forward_s": round(med["forward"], 4),
                "forward_backward_s": round(med["forward_backward"], 4),
                "forward_ratio": round(med["forward"] / base["forward"], 3),
                "forward_backward_ratio": round(
                    med["forward_backward"] / base["forward_backward"], 3),
                "forward_cpu_s": round(med["forward_cpu"], 4),
                "forward_backward_cpu_s": round(med["forward_backward_cpu"], 4),
                "forward_cpu_ratio": round(med["forward_cpu"] / base["forward_cpu"], 3),
                "forward_backward_cpu_ratio": round(
                    med["forward_backward_cpu"] / base["forward_backward_cpu"], 3),
                "max_abs_diff_output": float(np.abs(out - ref_out).max()),
                "max_abs_diff_grad": float(np.abs(grad - ref_grad).max()),
                "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
                "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
                "cpus_allowed": len(os.sched_getaffinity(0)),
                "torch_threads": torch.get_num_threads(),
            })


if __name__ == "__main__":
    main()
