"""Pictures of instance detections: boxes, class names, scores and translucent masks over
the image (Pillow), for ``keras-zoo predict`` and the end of a Mask R-CNN run."""

import math

import numpy as np

MASK_OPACITY = 0.45
MIN_SIDE = 320  # smaller images are enlarged (nearest) so that labels stay legible
# Distinct colours (Tableau 10), one per class index modulo 10.
PALETTE = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))


def draw_detections(pixels, boxes, scores, classes, masks, names):
    """Draws detections over an image.

    Args:
        pixels: uint8 ``[H, W, 3]``.
        boxes: ``[N, 4]`` float ``xyxy`` in image pixels.
        scores: ``[N]`` floats.
        classes: ``[N]`` classifier indices (>= 1).
        masks: ``[N, H, W]`` bool pasted masks.
        names: the class names, ``names[index - 1]`` for index ``index``.

    Returns:
        A `PIL.Image.Image` (RGB), enlarged by an integer factor when the image's shorter
        side is under `MIN_SIDE` pixels: masks blended at `MASK_OPACITY` in the class's
        colour, then each box outlined with a label "name score" above it (inside the
        image), best detection drawn last.
    """
    from PIL import Image, ImageDraw, ImageFont

    image = np.asarray(pixels, np.float32).copy()
    for index, mask in zip(classes[::-1], masks[::-1]):
        colour = np.asarray(PALETTE[(int(index) - 1) % len(PALETTE)], np.float32)
        image[mask] = image[mask] * (1 - MASK_OPACITY) + colour * MASK_OPACITY
    scale = max(1, math.ceil(MIN_SIDE / min(image.shape[:2])))
    picture = Image.fromarray(np.uint8(np.round(image))).resize(
        (image.shape[1] * scale, image.shape[0] * scale), Image.NEAREST)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=max(12, 4 * scale + 8))
    for box, score, index in list(zip(boxes, scores, classes))[::-1]:
        colour = PALETTE[(int(index) - 1) % len(PALETTE)]
        x1, y1, x2, y2 = (float(v) * scale for v in box)
        draw.rectangle((x1, y1, x2, y2), outline=colour, width=max(1, scale))
        label = f"{names[int(index) - 1]} {float(score):.2f}"
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        y = max(0.0, y1 - (bottom - top) - 4)
        draw.rectangle((x1, y, x1 + right - left + 4, y + bottom - top + 4), fill=colour)
        draw.text((x1 + 2 - left, y + 2 - top), label, fill=(255, 255, 255), font=font)
    return picture
