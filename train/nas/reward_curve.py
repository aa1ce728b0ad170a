"""`plot_reward_curve`: reward per trial, the baseline and the running best, as a PNG."""

from keras_zoo.train.plots import Chart, canvas, save_png, ticks

COLORS = {"reward": (31, 119, 180), "failed": (214, 39, 40), "baseline": (255, 127, 14),
          "best": (44, 160, 44)}


def plot_reward_curve(records, path, *, title="reward per trial", size=(640, 400)):
    """Draws the search's trial records (see `search`) into a PNG at `path`.

    Dots: each trial's reward (red: a failed child). Orange line: the
    controller's moving-average baseline when the child was sampled. Green
    steps: the best reward so far. Written to a temporary name and renamed.
    """
    width, height = size
    image, draw = canvas(size)
    rewards = [r["reward"] for r in records]
    low = min(rewards + [0.0]) if rewards else 0.0
    high = max(rewards + [low + 1e-6]) if rewards else 1.0
    count = max(len(records), 2)
    chart = Chart(draw, (60, 30, width - 20, height - 45), x_range=(0, count - 1),
                  y_range=(low, high))
    chart.axes(x_ticks=ticks(0, count - 1), y_ticks=ticks(low, high), x_label="trial",
               title=title, x_format=lambda i: str(round(i) + 1),  # trials count from 1
               y_format="{:.3f}".format)
    chart.line([(i, r["baseline"]) for i, r in enumerate(records)
                if r.get("baseline") is not None], COLORS["baseline"])
    best, steps = None, []
    for i, r in enumerate(records):
        if not r["failed"] and (best is None or r["reward"] > best):
            if steps:
                steps.append((i, best))
            best = r["reward"]
            steps.append((i, best))
    if steps:
        steps.append((len(records) - 1, best))
        chart.line(steps, COLORS["best"])
    chart.dots([(i, r["reward"]) for i, r in enumerate(records)],
               [COLORS["failed" if r["failed"] else "reward"] for r in records])
    chart.legend([("reward", COLORS["reward"], False), ("baseline", COLORS["baseline"], False),
                  ("best so far", COLORS["best"], False)], (width - 270, 10))
    save_png(image, path)
