"""Hyper-parameter presets of the search (`search(..., preset=...)`, ``--preset``).

``"default"`` learns small problems out of the box: on the synthetic
`TargetMatchReward` over a 4-layer space (random search scores 1/64) the mean
reward of trials 501-600 is above 0.25 (tests/train/nas/test_search.py; over
seeds 0-4 it reached 0.75-1.0 with REINFORCE and 0.38-1.0 with PPO, which
settles sooner, sometimes with one decision kind wrong).

``"paper"`` is Zoph & Le 2016 (arXiv:1611.01578), Sec. 4.1 and 3.4: Adam
with learning rate 0.0006, m = 8 children per gradient, a 2-layer LSTM of 35
units, REINFORCE with a moving-average baseline, no entropy bonus; children
trained 50 epochs, reward = max validation accuracy of the last 5 epochs,
cubed. The paper ran 100 controller replicas updating shared parameters
asynchronously, 800 children in flight; this search is one synchronous
controller. The paper gives no decay for its baseline; 0.95 is ours.

Both presets give ``algorithm="evolution"`` Real et al. 2019's population of
100 and tournament of 25 (arXiv:1802.01548, Sec. 3 and Appendix).
"""

SEARCH_KEYS = ("algorithm", "learning_rate", "children_per_update", "baseline_decay",
               "entropy_weight", "ppo_clip", "ppo_epochs", "controller_units",
               "controller_layers", "population_size", "sample_size")

PRESETS = {
    "default": {
        "algorithm": "reinforce", "learning_rate": 0.01, "children_per_update": 5,
        "baseline_decay": 0.9, "entropy_weight": 0.0, "ppo_clip": 0.2, "ppo_epochs": 4,
        "controller_units": 35, "controller_layers": 2,
        "population_size": 100, "sample_size": 25,  # Real et al. 2019 (algorithm="evolution")
        "child_epochs": 2, "reward_power": 1,
    },
    "paper": {
        "algorithm": "reinforce", "learning_rate": 0.0006, "children_per_update": 8,
        "baseline_decay": 0.95, "entropy_weight": 0.0, "ppo_clip": 0.2, "ppo_epochs": 4,
        "controller_units": 35, "controller_layers": 2,
        "population_size": 100, "sample_size": 25,
        "child_epochs": 50, "reward_power": 3,
    },
}


def get(name):
    """A copy of preset `name`."""
    if name not in PRESETS:
        raise ValueError(f"Expected a preset in {sorted(PRESETS)}. Received: preset={name!r}")
    return dict(PRESETS[name])
