"""Mask R-CNN R50-FPN (v1 or v2) on CPU: keras_zoo against torchvision, one 800x1216 image,
in float32 or bfloat16.

Inference latency (100 detections with their masks: both score thresholds are 0,
so both run the mask head on 100 boxes) and one training step (batch 1, 3
ground-truth objects, SGD momentum 0.9), contenders alternating in one process
(torch imported first), each timing after a 0.5 s pause so one contender's idle
worker threads do not slow the next; medians over ``--repeats`` of wall time and
of process CPU time (all threads: robust to other jobs' load, but it counts
torch's spinning OpenMP workers). Peak memory of
each contender is measured in a fresh subprocess: peak RSS (VmHWM, reset before)
while running the task twice, above the RSS after imports, data and the
torchvision weights it starts from (the torch model itself for torchvision, a
NumPy copy of its state dict for keras_zoo). Prints JSON lines, each with the CPU
(model and vector extensions, `_report`): FLOPs of the inference graph (TF
profiler, 2 per multiply-add; the same graph for both contenders) and each contender's
GFLOP/s against the CPU's peak in that precision too. An
AVX2 CPU can be approximated on an AVX-512 one by capping both libraries:
``ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 python bench/mask_rcnn.py``.

Both contenders have the same architecture, trainable set and weights:
torchvision's ``maskrcnn_resnet50_fpn`` as built for its pretrained weights
(FrozenBatchNorm2d, ``trainable_backbone_layers=3``) with random weights, and
``models.mask_rcnn.from_torchvision`` of its state dict (``models.MaskRCNN()``'s
architecture). ``--torchvision weights-none`` uses ``maskrcnn_resnet50_fpn(
weights=None)`` literally instead (BatchNorm2d in training, every layer trainable).

``--architecture v2`` compares torchvision's ``maskrcnn_resnet50_fpn_v2`` as built for its
COCO weights (BatchNorm2d in eval mode for inference, ``trainable_backbone_layers=3``)
with its conversion (``MaskRCNN.from_variant("resnet50_fpn_v2")``'s architecture).
``--precision bfloat16`` runs torchvision under ``torch.autocast("cpu", torch.bfloat16)``
and keras_zoo in the ``mixed_bfloat16`` policy (``--keras-bfloat16 rewrite``: float32
weights and TensorFlow's oneDNN bfloat16 graph rewrite instead); GFLOP/s are then set
against the CPU's bfloat16 peak (`peak_gflops`).

    python bench/mask_rcnn.py --repeats 5
    python bench/mask_rcnn.py --architecture v2 --precision bfloat16 --repeats 3 --skip-memory
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch  # noqa: I001  (torch before tensorflow: the other order crashes)
import torchvision
from torchvision.models.detection import MaskRCNN as TorchMaskRCNN
from torchvision.models.detection import maskrcnn_resnet50_fpn
from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
from torchvision.ops import FrozenBatchNorm2d

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_zoo import models, ops  # noqa: E402
from keras_zoo.models.preset import rebuild_with_policy  # noqa: E402

from _report import emit  # noqa: E402

HEIGHT, WIDTH, OBJECTS, MASK_CROP = 800, 1216, 3, 112
LR = 0.0025


def peak_gflops(precision="float32"):
    """``(flops_per_cycle_and_core, peak GFLOP/s)`` of this CPU in `precision`, from
    /proc/cpuinfo.

    float32: two FMA pipes of 256 bits (AVX2; AMD Zen 2-4 also run AVX-512 on 256-bit
    halves) give 32 FLOPs per cycle and core; two 512-bit FMA pipes (Intel server AVX-512,
    AMD Zen 5 = family 26) give 64. bfloat16: AVX512_BF16's dot product does two
    multiply-adds per float32 lane (twice float32's rate); AMX-BF16 tiles do 1024 FLOPs per
    cycle and core (Intel's figure for Sapphire Rapids).
    """
    try:
        lines = open("/proc/cpuinfo").read().splitlines()
    except OSError:
        return None, None
    fields = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    flags = fields.get("flags", "").split()
    wide = "avx512f" in flags and (
        fields.get("vendor_id") == "GenuineIntel" or int(fields.get("cpu family", 0)) >= 26)
    per_cycle = 64 if wide else 32
    if precision == "bfloat16":
        per_cycle = 1024 if "amx_bf16" in flags else 2 * per_cycle if "avx512_bf16" in flags \
            else per_cycle
    mhz = float(fields.get("cpu MHz", 0.0))
    return per_cycle, round(os.cpu_count() * mhz * 1e-3 * per_cycle, 1)


def make_data(seed=0):
    """An image with smooth gradients and OBJECTS filled shapes; their boxes, classes,
    full masks (torchvision) and box-cropped masks (keras_zoo)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:HEIGHT, :WIDTH]
    image = np.stack([xx * 255 // WIDTH, yy * 255 // HEIGHT, np.full_like(xx, 100)], -1)
    boxes, masks = [], []
    for _ in range(OBJECTS):
        w, h = rng.integers(150, 400, 2)
        x0, y0 = rng.integers(0, WIDTH - w), rng.integers(0, HEIGHT - h)
        mask = ((xx - x0 - w / 2) / (w / 2)) ** 2 + ((yy - y0 - h / 2) / (h / 2)) ** 2 < 1
        image[mask] = rng.integers(0, 256, 3)
        ys, xs = np.nonzero(mask)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        masks.append(mask)
    image = image.astype(np.uint8)
    boxes = np.array(boxes, np.float32)
    masks = np.array(masks, np.uint8)
    classes = rng.integers(1, 91, OBJECTS).astype(np.int64)
    crops = ops.masks.crop_and_resize_masks(masks, boxes, np.arange(OBJECTS), MASK_CROP,
                                            threshold=None).numpy()
    return image, boxes, classes, masks, crops


def torch_model(config, architecture="v1"):
    if architecture == "v2":  # maskrcnn_resnet50_fpn_v2 as built for its COCO weights
        from torchvision.models.detection.faster_rcnn import (
            FastRCNNConvFCHead,
            RPNHead,
            _default_anchorgen,
        )
        from torchvision.models.detection.mask_rcnn import MaskRCNNHeads

        body = torchvision.models.resnet50(weights=None)
        backbone = _resnet_fpn_extractor(body, 3, norm_layer=torch.nn.BatchNorm2d)
        return TorchMaskRCNN(
            backbone, num_classes=91, rpn_anchor_generator=_default_anchorgen(),
            rpn_head=RPNHead(256, 3, conv_depth=2),
            box_head=FastRCNNConvFCHead((256, 7, 7), [256] * 4, [1024],
                                        norm_layer=torch.nn.BatchNorm2d),
            mask_head=MaskRCNNHeads(256, [256] * 4, 1, norm_layer=torch.nn.BatchNorm2d),
            box_score_thresh=0.0)
    if config == "weights-none":
        model = maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, box_score_thresh=0.0)
    else:  # what maskrcnn_resnet50_fpn builds for pretrained weights, randomly initialised
        body = torchvision.models.resnet50(weights=None, norm_layer=FrozenBatchNorm2d)
        model = TorchMaskRCNN(_resnet_fpn_extractor(body, 3), num_classes=91,
                              box_score_thresh=0.0)
    return model


def torch_contender(data, model, precision="float32"):
    image, boxes, classes, masks, _ = data
    tensor = torch.from_numpy(image).permute(2, 0, 1).float() / 255.0
    target = {"boxes": torch.from_numpy(boxes), "labels": torch.from_numpy(classes),
              "masks": torch.from_numpy(masks)}
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=LR, momentum=0.9, weight_decay=1e-4)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16")

    def infer():
        model.eval()
        with torch.no_grad(), autocast:
            out = model([tensor])[0]
        return len(out["scores"])

    def train():
        model.train()
        with autocast:
            losses = model([tensor], [target])
            loss = sum(losses.values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return float(loss)

    return infer, train


def keras_contender(data, torch_state, precision="float32", bfloat16="policy"):
    """`models.MaskRCNN` with the torchvision contender's random weights
    (`from_torchvision`: v1 or v2, whichever the state dict holds): both find the same 100
    detections in float32. In bfloat16, the ``mixed_bfloat16`` policy (``bfloat16 ==
    "policy"``) or float32 weights with TensorFlow's oneDNN bfloat16 graph rewrite
    (``"rewrite"``, a process-wide switch)."""
    image, boxes, classes, _, crops = data
    model = models.mask_rcnn.from_torchvision(torch_state, score_threshold=0.0)
    if precision == "bfloat16" and bfloat16 == "policy":
        model = rebuild_with_policy(model, "mixed_bfloat16")
    elif precision == "bfloat16":
        tf.config.optimizer.set_experimental_options(
            {"auto_mixed_precision_onednn_bfloat16": True})
    model.compile(optimizer=keras.optimizers.SGD(LR, momentum=0.9, weight_decay=1e-4))
    x = image[None]
    y = {"boxes": boxes[None], "classes": classes[None].astype(np.int32), "masks": crops[None]}

    def infer():
        return int(model.predict_on_batch(x)["num_detections"][0])

    def train():
        return float(model.train_on_batch(x, y, return_dict=True)["loss"])

    return infer, train, model


def inference_flops(model):
    spec = tf.TensorSpec([1, HEIGHT, WIDTH, 3], tf.uint8)
    graph = tf.function(lambda x: model(x)).get_concrete_function(spec).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops


def timed(fn, settle_s=0.5):
    """Wall seconds and process CPU seconds (all threads) of one call, after a pause."""
    time.sleep(settle_s)
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def status_mb(field):
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of this process, MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss():
    """Linux: writing 5 to clear_refs resets VmHWM to the current RSS."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def memory_child(contender, task, args):
    """Runs in a fresh process: peak RSS of building the contender and two calls of
    `task`, above the RSS after imports and data (model weights included)."""
    data = make_data()
    reference = torch_model(args.torchvision, args.architecture)
    state = None if contender == "torchvision" else {
        k: v.numpy().copy() for k, v in reference.state_dict().items()}
    if state is not None:
        del reference
    reset_peak_rss()
    baseline = status_mb("VmRSS")
    if contender == "torchvision":
        infer, train = torch_contender(data, reference, args.precision)
    else:
        infer, train, _ = keras_contender(data, state, args.precision, args.keras_bfloat16)
    fn = infer if task == "inference" else train
    fn()
    fn()
    emit({"bench": "mask_rcnn_memory", "contender": contender, "task": task,
          "peak_rss_above_baseline_mb": round(status_mb("VmHWM") - baseline, 1)})


def _options(args):
    return ["--torchvision", args.torchvision, "--architecture", args.architecture,
            "--precision", args.precision, "--keras-bfloat16", args.keras_bfloat16]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--architecture", choices=("v1", "v2"), default="v1")
    parser.add_argument("--precision", choices=("float32", "bfloat16"), default="float32")
    parser.add_argument("--keras-bfloat16", choices=("policy", "rewrite"), default="policy",
                        help="keras_zoo in bfloat16: the mixed_bfloat16 policy, or float32 "
                        "weights with TensorFlow's oneDNN bfloat16 graph rewrite")
    parser.add_argument("--torchvision", choices=("frozen", "weights-none"), default="frozen",
                        help="v1 only: torchvision as built for its weights, or weights=None")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", nargs=2, metavar=("CONTENDER", "TASK"))
    args = parser.parse_args()
    if args.memory_child:
        return memory_child(*args.memory_child, args)
    per_cycle, peak = peak_gflops(args.precision)
    setting = {"architecture": args.architecture, "precision": args.precision,
               "keras_bfloat16": args.keras_bfloat16 if args.precision == "bfloat16" else None}
    emit({"bench": "mask_rcnn_env", **setting, "cores": os.cpu_count(),
          "flops_per_cycle": per_cycle, "peak_gflops": peak,
          "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
          "aten_cpu_capability": os.environ.get("ATEN_CPU_CAPABILITY"), "torch": torch.__version__,
          "torchvision": torchvision.__version__, "tensorflow": tf.__version__,
          "keras": keras.__version__, "torch_threads": torch.get_num_threads(),
          "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
          "load_average": os.getloadavg(), "torchvision_config": args.torchvision})
    data = make_data()
    reference = torch_model(args.torchvision, args.architecture)
    keras_infer, keras_train, model = keras_contender(data, reference.state_dict(),
                                                      args.precision, args.keras_bfloat16)
    contenders = {"torchvision": torch_contender(data, reference, args.precision),
                  "keras_zoo": (keras_infer, keras_train)}
    for name, (infer, train) in contenders.items():  # warm up (tracing, allocator)
        detections = infer()
        train()
        emit({"bench": "mask_rcnn_warmup", "contender": name, "detections": detections})
    times = {(name, task): [] for name in contenders for task in ("inference", "train")}
    cpu_times = {key: [] for key in times}
    for repeat in range(args.repeats):
        for name, (infer, train) in contenders.items():
            for task, fn in (("inference", infer), ("train", train)):
                seconds, cpu_seconds = timed(fn)
                times[(name, task)].append(seconds)
                cpu_times[(name, task)].append(cpu_seconds)
                emit({"bench": "mask_rcnn_step", "contender": name, "task": task,
                      "repeat": repeat, "seconds": round(seconds, 3),
                      "cpu_seconds": round(cpu_seconds, 3)})
    flops = inference_flops(model)
    for task in ("inference", "train"):
        base = float(np.median(times[("torchvision", task)]))
        cpu_base = float(np.median(cpu_times[("torchvision", task)]))
        for name in contenders:
            median = float(np.median(times[(name, task)]))
            cpu_median = float(np.median(cpu_times[(name, task)]))
            record = {"bench": "mask_rcnn", **setting, "contender": name, "task": task,
                      "image": [HEIGHT, WIDTH], "repeats": args.repeats,
                      "median_s": round(median, 3), "ratio_to_torchvision": round(median / base, 3),
                      "median_cpu_s": round(cpu_median, 3),
                      "cpu_ratio_to_torchvision": round(cpu_median / cpu_base, 3),
                      "load_average": os.getloadavg()}
            if task == "inference":
                gflops = flops / median * 1e-9
                record.update({"inference_gflop": round(flops * 1e-9, 1),
                               "gflop_per_s": round(gflops, 1),
                               "fraction_of_peak": round(gflops / peak, 3) if peak else None})
            emit(record)
    if not args.skip_memory:
        for name in contenders:
            for task in ("inference", "train"):
                subprocess.run([sys.executable, __file__, "--memory-child", name, task,
                                *_options(args)], check=True)


if __name__ == "__main__":
    main()
