"""Reference outputs of one of torchvision's ResNet-50-FPN detectors (Mask or Faster
R-CNN, v1 or v2; weights=None), written to an .npz.

Run by tests/models/test_mask_rcnn_torchvision.py in a subprocess (plain python,
torch only: pytest imports TensorFlow first, and torch must come first):

    python tests/models/torchvision_mask_rcnn.py OUT.npz --architecture fasterrcnn_resnet50_fpn

Random weights, seeded, made informative: BN statistics are those of the test
image (one train-mode pass, cumulative average: the body's, and in v2 the FPN's too;
v2's head BN layers get random affine weights and statistics), the RPN objectness and box
classifier weights are scaled up so that scores are well separated, and the
mask upsampling is spatially uniform so that masks are smooth. Writes the
state dict (``sd/<name>``), the image, torchvision's transformed input, per-stage
outputs (FPN maps, RPN logits, box-head outputs for given proposals, mask logits
for given boxes) and the end-to-end detections.
"""

import argparse

import numpy as np
import torch
import torchvision
from torchvision.models import detection

ARCHITECTURES = ("maskrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn",
                 "maskrcnn_resnet50_fpn_v2", "fasterrcnn_resnet50_fpn_v2")


def test_image(height, width, seed):
    """A smooth background with bright rectangles and ellipses (uint8 HWC)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width]
    image = np.stack([(xx * 255 // width), (yy * 255 // height),
                      np.full_like(xx, 90)], -1).astype(np.float64)
    for _ in range(6):
        x0, y0 = rng.integers(0, width - 40), rng.integers(0, height - 40)
        w, h = rng.integers(30, width // 2), rng.integers(30, height // 2)
        colour = rng.integers(0, 256, 3)
        if rng.random() < 0.5:
            image[y0:y0 + h, x0:x0 + w] = colour
        else:
            inside = ((xx - x0 - w / 2) / (w / 2)) ** 2 + ((yy - y0 - h / 2) / (h / 2)) ** 2 < 1
            image[inside] = colour
    return np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--min-size", type=int, default=320)
    parser.add_argument("--max-size", type=int, default=448)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pth", help="also torch.save the state dict there")
    parser.add_argument("--architecture", choices=ARCHITECTURES, default=ARCHITECTURES[0])
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    model = getattr(detection, args.architecture)(
        weights=None, weights_backbone=None, num_classes=91, min_size=args.min_size,
        max_size=args.max_size)
    masks = model.roi_heads.has_mask()
    image = test_image(args.height, args.width, args.seed)
    tensor = torch.from_numpy(image).permute(2, 0, 1).float() / 255.0
    with torch.no_grad():
        model.eval()
        images, _ = model.transform([tensor])
        # v1's FPN has no BN; v2's FPN BN takes the image's statistics with the body's.
        measured = model.backbone if args.architecture.endswith("_v2") else model.backbone.body
        for module in measured.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.reset_running_stats()
                module.momentum = None  # cumulative average: the statistics of this image
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
        measured.train()
        measured(images.tensors)
        model.eval()
        for module in model.roi_heads.modules():  # v2's head BN: random, near identity
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
        model.rpn.head.cls_logits.weight.mul_(10.0)
        model.roi_heads.box_predictor.cls_score.weight.mul_(4.0)
        model.roi_heads.box_predictor.bbox_pred.weight.mul_(3.0)
        if masks:
            # One 2x2 upsampling kernel for the four positions: random ones draw a
            # checkerboard at 28x28 that no two pasting conventions resample alike; trained
            # masks are smooth.
            upsample = model.roi_heads.mask_predictor.conv5_mask.weight
            upsample.copy_(upsample[:, :, :1, :1].expand_as(upsample))

        features = model.backbone(images.tensors)
        objectness, _ = model.rpn.head(list(features.values()))
        proposals, _ = model.rpn(images, features)
        props = proposals[0][:300]
        pooled = model.roi_heads.box_roi_pool(features, [props], images.image_sizes)
        class_logits, box_regression = model.roi_heads.box_predictor(
            model.roi_heads.box_head(pooled))
        if masks:
            mask_boxes = props[:50]
            mask_pooled = model.roi_heads.mask_roi_pool(features, [mask_boxes],
                                                        images.image_sizes)
            mask_logits = model.roi_heads.mask_predictor(model.roi_heads.mask_head(mask_pooled))
        detections = model([tensor])[0]

    out = {f"sd/{k}": v.numpy() for k, v in model.state_dict().items()
           if not k.endswith("num_batches_tracked")}
    out.update({
        "image": image,
        "transformed": images.tensors.numpy().transpose(0, 2, 3, 1),
        "image_sizes": np.array(images.image_sizes, np.int32),
        "proposals": props.numpy(),
        "box_logits": class_logits.numpy(),
        "box_regression": box_regression.numpy(),
        "boxes": detections["boxes"].numpy(),
        "scores": detections["scores"].numpy(),
        "labels": detections["labels"].numpy(),
        "torchvision": np.array(torchvision.__version__),
        # the names of its COCO weights' 91 outputs (keras_zoo keeps its own table)
        "categories": np.array(detection.MaskRCNN_ResNet50_FPN_Weights.COCO_V1.meta[
            "categories"]),
        "num_parameters": np.array(sum(p.numel() for p in model.parameters())),
    })
    if masks:
        out.update({"mask_boxes": mask_boxes.numpy(),
                    "mask_logits": mask_logits.numpy().transpose(0, 2, 3, 1),
                    "masks": detections["masks"].numpy()[:, 0]})
    for i, (name, value) in enumerate(features.items()):
        out[f"P{i + 2}"] = value.numpy().transpose(0, 2, 3, 1)
    for i, value in enumerate(objectness):  # [1, A, H, W] -> anchor order (H, W, A)
        out[f"objectness{i + 2}"] = value.numpy().transpose(0, 2, 3, 1).reshape(1, -1)
    np.savez(args.out, **out)
    if args.pth:
        torch.save(model.state_dict(), args.pth)


if __name__ == "__main__":
    main()
