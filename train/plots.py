"""`Chart`: one panel of a line chart drawn with Pillow (matplotlib is not a dependency).

The training pictures (the NAS reward curve, the degradation figure of
bench/degradation.py) share this drawing: a framed plotting area with
ticks and labels, solid and dashed polylines, dots, error bars and a
legend, written as PNG through `atomic_files.atomic_path`.

>>> image, draw = canvas((640, 400))
>>> chart = Chart(draw, (60, 30, 620, 355), x_range=(0, 10), y_range=(0, 1))
>>> chart.axes(x_ticks=ticks(0, 10), y_ticks=ticks(0, 1), x_label="epoch", title="error")
>>> chart.line([(0, 0.9), (10, 0.1)], (31, 119, 180), dashed=True)
>>> save_png(image, "chart.png")
"""

import math

from PIL import Image, ImageDraw, ImageFont

from keras_zoo.train.atomic_files import atomic_path

BLACK = (0, 0, 0)
DASH = (6, 4)  # pixels drawn, pixels skipped, along a dashed line


def canvas(size):
    """A white RGB image of `size` ``(width, height)`` and its `ImageDraw`."""
    image = Image.new("RGB", size, "white")
    return image, ImageDraw.Draw(image)


def save_png(image, path):
    """Writes `image` as PNG to a temporary name and renames it to `path`."""
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")


def ticks(low, high, count=5):
    """`count` evenly spaced values from `low` to `high` (``[low] * count`` when equal)."""
    step = (high - low) / (count - 1) if high > low else 0.0
    return [low + i * step for i in range(count)]


class Chart:
    """A plotting area of `draw` mapping data coordinates to pixels.

    Args:
        draw: the `PIL.ImageDraw.ImageDraw` of the image.
        box: ``(left, top, right, bottom)`` of the plotting area in pixels.
        x_range, y_range: ``(low, high)`` data values at the area's edges
            (y grows upwards); equal ends are widened so nothing divides by 0.
        font_size: pixels of Pillow's built-in font (12: its smallest with visible
            spaces).
    """

    def __init__(self, draw, box, *, x_range, y_range, font_size=12):
        self.draw = draw
        self.box = tuple(box)
        self.x_range = _widened(x_range)
        self.y_range = _widened(y_range)
        self.font = ImageFont.load_default(size=font_size)

    def xy(self, x, y):
        """Pixel coordinates of the data point ``(x, y)``."""
        left, top, right, bottom = self.box
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        return (left + (right - left) * (x - x0) / (x1 - x0),
                bottom - (bottom - top) * (y - y0) / (y1 - y0))

    def text(self, at, label, *, anchor="la", color=BLACK):
        """`label` at pixel `at`; `anchor` as Pillow's ("la" left-top, "mm" centre...)."""
        self.draw.text(at, label, fill=color, font=self.font, anchor=anchor)

    def axes(self, *, x_ticks, y_ticks, x_label=None, title=None, x_format="{:g}".format,
             y_format="{:g}".format):
        """The frame, tick marks labelled `x_format(value)` / `y_format(value)`,
        `x_label` under the area and `title` above its left corner."""
        left, top, right, bottom = self.box
        self.draw.rectangle(self.box, outline=BLACK)
        for value in y_ticks:
            _, y = self.xy(self.x_range[0], value)
            self.draw.line([left - 4, y, left, y], fill=BLACK)
            self.text((left - 6, y), y_format(value), anchor="rm")
        for value in x_ticks:
            x, _ = self.xy(value, self.y_range[0])
            self.draw.line([x, bottom, x, bottom + 4], fill=BLACK)
            self.text((x, bottom + 6), x_format(value), anchor="mt")
        if x_label:
            self.text(((left + right) / 2, bottom + 22), x_label, anchor="mt")
        if title:
            self.text((left, top - 8), title, anchor="ls")

    def line(self, points, color, *, width=2, dashed=False):
        """A polyline through the data `points` ``[(x, y), ...]`` (dashed: `DASH`),
        cut where it leaves the y range."""
        for piece in _clip(points, *self.y_range):
            pixels = [self.xy(x, y) for x, y in piece]
            for segment in (_dashes(pixels) if dashed else [pixels]):
                self.draw.line(segment, fill=color, width=width)

    def dots(self, points, colors, *, radius=2.5):
        """A filled circle at each data point; `colors` one per point."""
        for (x, y), color in zip(points, colors):
            px, py = self.xy(x, y)
            self.draw.ellipse([px - radius, py - radius, px + radius, py + radius], fill=color)

    def error_bars(self, points, errors, color, *, cap=3):
        """A vertical bar ``y - e .. y + e`` with end caps at each data point."""
        y0, y1 = self.y_range
        for (x, y), error in zip(points, errors):
            if not y0 <= y <= y1:
                continue
            (px, low), (_, high) = self.xy(x, max(y0, y - error)), self.xy(x, min(y1, y + error))
            self.draw.line([px, low, px, high], fill=color)
            for end in (low, high):
                self.draw.line([px - cap, end, px + cap, end], fill=color)

    def legend(self, entries, at, *, step=None):
        """One sample line and label per entry ``(label, color, dashed)``, from pixel
        `at` to the right (or downwards by `step` pixels when `step` is given)."""
        x, y = at
        for label, color, dashed in entries:
            sample = [(x, y + 6), (x + 18, y + 6)]
            for segment in (_dashes(sample) if dashed else [sample]):
                self.draw.line(segment, fill=color, width=3)
            self.text((x + 22, y), label)
            if step is None:
                x += 30 + self.draw.textlength(label, font=self.font)
            else:
                y += step


def _widened(limits):
    low, high = (float(v) for v in limits)
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def _clip(points, low, high):
    """The pieces of the polyline `points` with ``low <= y <= high``, each segment cut
    where it crosses `low` or `high`."""
    pieces, current = [], []
    for (xa, ya), (xb, yb) in zip(points, points[1:]):
        if ya == yb:
            t0, t1 = (0.0, 1.0) if low <= ya <= high else (1.0, 0.0)
        else:
            ta, tb = (low - ya) / (yb - ya), (high - ya) / (yb - ya)
            t0, t1 = max(0.0, min(ta, tb)), min(1.0, max(ta, tb))
        if t0 > t1:  # the segment lies outside
            current = _closed(pieces, current)
            continue
        start, end = ((xa + (xb - xa) * t, ya + (yb - ya) * t) for t in (t0, t1))
        if t0 > 0 or not current:
            current = _closed(pieces, current) + [start]
        current.append(end)
        if t1 < 1:
            current = _closed(pieces, current)
    _closed(pieces, current)
    return pieces


def _closed(pieces, current):
    """Appends the polyline `current` to `pieces` when it has a segment; returns []."""
    if len(current) > 1:
        pieces.append(current)
    return []


def _dashes(pixels, pattern=DASH):
    """The drawn pieces of the polyline `pixels` under the on/off `pattern`."""
    on, off = pattern
    pieces, current, drawn, left = [], [pixels[0]], True, on
    for (x0, y0), (x1, y1) in zip(pixels, pixels[1:]):
        length, done = math.hypot(x1 - x0, y1 - y0), 0.0
        while length - done > left:
            done += left
            point = (x0 + (x1 - x0) * done / length, y0 + (y1 - y0) * done / length)
            if drawn:
                pieces.append([*current, point])
            current, drawn = [point], not drawn
            left = on if drawn else off
        left -= length - done
        if drawn:
            current.append((x1, y1))
    if drawn and len(current) > 1:
        pieces.append(current)
    return pieces
