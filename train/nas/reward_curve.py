"""`plot_reward_curve`: reward per trial, the baseline and the running best, as a PNG."""

from keras_zoo.train import plots


def best_so_far(records):
    """The running best reward of the trials that did not fail (None before the first)."""
    best, curve = None, []
    for record in records:
        if not record["failed"] and (best is None or record["reward"] > best):
            best = record["reward"]
        curve.append(best)
    return curve


def plot_reward_curve(records, path, *, title="reward per trial"):
    """Draws the search's trial records (see `search`) into a PNG at `path`; returns the
    matplotlib figure.

    Dots: each trial's reward (red: a failed child). Orange line: the controller's
    moving-average baseline when the child was sampled. Green steps: the best reward so
    far. Trials count from 1.
    """
    fig, (ax,) = plots.figure(1)
    trials = list(range(1, len(records) + 1))
    baseline = [(t, r["baseline"]) for t, r in zip(trials, records)
                if r.get("baseline") is not None]
    if baseline:
        ax.plot(*zip(*baseline), color="tab:orange", label="baseline")
    ax.step(trials, [b if b is not None else float("nan") for b in best_so_far(records)],
            where="post", color="tab:green", label="best so far")
    ax.scatter(trials, [r["reward"] for r in records], s=14, zorder=3, label="reward",
               color=["tab:red" if r["failed"] else "tab:blue" for r in records])
    ax.set(xlabel="trial", ylabel="reward", title=title)
    ax.legend(loc="lower right")
    plots.save(fig, path)
    return fig
