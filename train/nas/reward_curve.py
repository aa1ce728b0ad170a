"""`plot_reward_curve`: reward per trial, the baseline and the running best, as a PNG."""

from PIL import Image, ImageDraw, ImageFont

from keras_zoo.train.atomic_files import atomic_path

COLORS = {"reward": (31, 119, 180), "failed": (214, 39, 40), "baseline": (255, 127, 14),
          "best": (44, 160, 44)}


def _ticks(low, high, count=5):
    step = (high - low) / (count - 1) if high > low else 1.0
    return [low + i * step for i in range(count)]


def plot_reward_curve(records, path, *, title="reward per trial", size=(640, 400)):
    """Draws the search's trial records (see `search`) into a PNG at `path`.

    Dots: each trial's reward (red: a failed child). Orange line: the
    controller's moving-average baseline when the child was sampled. Green
    steps: the best reward so far. Written to a temporary name and renamed.
    """
    width, height = size
    left, right, top, bottom = 60, 20, 30, 45
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    rewards = [r["reward"] for r in records]
    low = min(rewards + [0.0]) if rewards else 0.0
    high = max(rewards + [low + 1e-6]) if rewards else 1.0
    count = max(len(records), 2)

    def xy(trial, value):
        x = left + (width - left - right) * trial / (count - 1)
        y = height - bottom - (height - top - bottom) * (value - low) / (high - low)
        return x, y

    draw.rectangle([left, top, width - right, height - bottom], outline="black")
    for value in _ticks(low, high):
        x, y = xy(0, value)
        draw.line([x - 4, y, x, y], fill="black")
        draw.text((5, y - 6), f"{value:.3f}", fill="black", font=font)
    for trial in _ticks(0, count - 1):
        x, y = xy(trial, low)
        draw.line([x, y, x, y + 4], fill="black")
        draw.text((x - 8, y + 6), f"{int(round(trial)) + 1}", fill="black", font=font)
    draw.text((width // 2 - 20, height - 18), "trial", fill="black", font=font)
    draw.text((left, 8), title, fill="black", font=font)

    baseline = [xy(i, r["baseline"]) for i, r in enumerate(records)
                if r.get("baseline") is not None]
    if len(baseline) > 1:
        draw.line(baseline, fill=COLORS["baseline"], width=2)
    best, steps = None, []
    for i, r in enumerate(records):
        if not r["failed"] and (best is None or r["reward"] > best):
            if steps:
                steps.append(xy(i, best))
            best = r["reward"]
            steps.append(xy(i, best))
    if steps:
        steps.append(xy(len(records) - 1, best))
        draw.line(steps, fill=COLORS["best"], width=2)
    for i, r in enumerate(records):
        x, y = xy(i, r["reward"])
        color = COLORS["failed" if r["failed"] else "reward"]
        draw.ellipse([x - 2.5, y - 2.5, x + 2.5, y + 2.5], fill=color)
    legend = [("reward", "reward"), ("baseline", "baseline"), ("best", "best so far")]
    for k, (key, label) in enumerate(legend):
        x = width - right - 250 + 85 * k
        draw.line([x, 16, x + 14, 16], fill=COLORS[key], width=3)
        draw.text((x + 18, 10), label, fill="black", font=font)
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")
