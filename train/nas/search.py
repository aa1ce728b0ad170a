"""`search`: the architecture-search loop of Zoph & Le 2016 (arXiv:1611.01578), Sec. 3."""


import numpy as np

from keras_zoo.checks import one_of, positive_int
from keras_zoo.models.nas import Controller, spaces
from keras_zoo.train.nas import presets
from keras_zoo.train.nas.evolution import RegularizedEvolution
from keras_zoo.train.nas.executors import InProcessExecutor
from keras_zoo.train.nas.policy_gradient import PolicyGradient
from keras_zoo.train.nas.random_search import RandomSearch
from keras_zoo.train.nas.search_directory import SearchDirectory

ALGORITHMS = ("reinforce", "ppo", "evolution", "random")


def _settings(preset, overrides):
    settings = {k: v for k, v in presets.get(preset).items() if k in presets.SEARCH_KEYS}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    one_of("algorithm", settings["algorithm"], ALGORITHMS)
    for key in ("children_per_update", "ppo_epochs", "controller_units", "controller_layers",
                "population_size", "sample_size"):
        positive_int(key, settings[key])
    for key in ("learning_rate", "ppo_clip"):
        if not settings[key] > 0:
            raise ValueError(f"Expected {key} > 0. Received: {key}={settings[key]!r}")
    return settings


def _proposer(space, settings, seed):
    if settings["algorithm"] == "random":
        return RandomSearch(space)
    if settings["algorithm"] == "evolution":
        return RegularizedEvolution(space, settings["population_size"], settings["sample_size"])
    controller = Controller(space, units=settings["controller_units"],
                            num_lstm_layers=settings["controller_layers"], seed=seed)
    return PolicyGradient(controller, algorithm=settings["algorithm"],
                          learning_rate=settings["learning_rate"],
                          baseline_decay=settings["baseline_decay"],
                          entropy_weight=settings["entropy_weight"],
                          ppo_clip=settings["ppo_clip"], ppo_epochs=settings["ppo_epochs"])


def batch_seed(seed, update):
    """The sampling seed of controller update `update` of a search seeded `seed`."""
    return int(np.random.SeedSequence([seed, update]).generate_state(1)[0] >> 1)


def _record(trial, update, arch_record, info, result, failure_reward, baseline):
    reward = failure_reward if result["failed"] else result["reward"]
    return {"trial": trial, "update": update, "arch": arch_record, "baseline": baseline,
            **info, **result, "reward": reward}


def search(space, evaluate, *, trials, seed=None, out_dir=None, preset="default",
           algorithm=None, learning_rate=None, children_per_update=None, baseline_decay=None,
           entropy_weight=None, ppo_clip=None, ppo_epochs=None, controller_units=None,
           controller_layers=None, population_size=None, sample_size=None, executor=None,
           failure_reward=0.0, metadata=None, overwrite=False, on_trial=None):
    """Searches `space` for the architecture with the highest ``evaluate(arch)``.

    Every update proposes m = `children_per_update` architectures (seeded by
    `seed` and the update number), evaluates them through `executor`, and
    tells the algorithm their rewards: ``"reinforce"`` and ``"ppo"`` sample
    from a `Controller` and update it (`PolicyGradient`), ``"evolution"`` is
    regularized evolution (`RegularizedEvolution`), ``"random"`` samples
    uniformly and learns nothing (random search, the baseline). The loop
    knows nothing of what `evaluate` does: any ``evaluate(arch) -> float``
    works, e.g. a `ChildTrainer`, a `LanguageModelTrainer`, a tabular
    benchmark (`benchmarks.NASBench201`) or a `TargetMatchReward`.

    With `out_dir` the search streams its trials to ``trials.jsonl``,
    checkpoints the algorithm's state (controller, Adam state and baseline;
    or the population) after every update, and keeps ``best_arch.json``
    (see `SearchDirectory`). Calling
    `search` again on that directory with the same settings resumes it at
    the next trial with the same controller state, so a search killed and
    resumed gives the trajectory of one that ran through; children already
    recorded for the pending update are reused, not trained again. A larger
    `trials` extends a finished search.

    Args:
        space: a search space (`SearchSpace`, `RecurrentCellSpace`, `ChoiceSpace`,
            anything of the protocol in `keras_zoo.models.nas.spaces`) or a
            plain list of choice counts (a `ChoiceSpace`: `evaluate` then
            receives the list of chosen indices).
        evaluate: ``evaluate(arch) -> float`` (or a dict with ``"reward"`` and
            other JSON values for the record). It must pickle for the process
            pool and Ray executors.
        trials: number of children in all.
        seed: int seed of the controller's weights and of every sample; None
            draws one (stored in ``search.json``, reused on resume).
        out_dir: directory of the search's files, or None for none.
        preset: ``"default"`` or ``"paper"`` (see `presets`); the arguments
            below left None take the preset's value.
        algorithm: ``"reinforce"``, ``"ppo"``, ``"evolution"`` or ``"random"``.
        learning_rate: the controller's Adam learning rate.
        children_per_update: m, children per controller update.
        baseline_decay: decay of the moving-average baseline.
        entropy_weight: weight of the entropy bonus.
        ppo_clip, ppo_epochs: PPO's clip ε and gradient steps per batch.
        controller_units, controller_layers: the controller's LSTM.
        population_size, sample_size: regularized evolution's P and S.
        executor: an executor (see `executors`); None evaluates in process
            (`evaluate` may then be any callable, a lambda too; ``keras-zoo
            search`` trains its children in a worker process,
            ``executors.get()``).
            The search closes an executor it created, not one it was given.
        failure_reward: the reward of a child that failed (raised, ran out of
            memory, killed its worker, returned a non-finite reward); 0.0, what
            an accuracy reward gives a network that learned nothing.
        metadata: JSON dict describing `evaluate` (e.g. dataset, child
            epochs), stored in ``search.json`` and compared on resume.
        overwrite: replace a keras_zoo search of other settings in `out_dir`.
        on_trial: called with each new record (e.g. a progress bar).

    Returns:
        The trial records sorted by trial, each a JSON dict ``{"trial",
        "update", "arch" (the space's `to_record`: `Architecture.to_dict`,
        the list of indices of a `ChoiceSpace`), "reward", "seconds",
        "failed", "baseline" (b before this update; None in the first),
        "log_prob", "entropy" (controller only), "error" (failed only), and
        what `evaluate` returned besides the reward}``.

    Example:

    >>> space = SearchSpace(4)
    >>> records = search(space, TargetMatchReward(space), trials=600, seed=0)
    >>> sum(r["reward"] for r in records[-100:]) / 100 > 0.25
    True
    >>> records = search([9, 9, 9], lambda arch: -sum(arch), trials=50, seed=0,
    ...                  algorithm="evolution")
    >>> len(records[0]["arch"])  # evaluate and the records see lists of 3 indices
    3
    """
    space = spaces.get(space)
    positive_int("trials", trials)
    settings = _settings(preset, {
        "algorithm": algorithm, "learning_rate": learning_rate,
        "children_per_update": children_per_update, "baseline_decay": baseline_decay,
        "entropy_weight": entropy_weight, "ppo_clip": ppo_clip, "ppo_epochs": ppo_epochs,
        "controller_units": controller_units, "controller_layers": controller_layers,
        "population_size": population_size, "sample_size": sample_size})
    directory = None if out_dir is None else SearchDirectory(out_dir)
    if seed is None:
        stored = directory and directory.stored_header()
        seed = stored["settings"]["seed"] if stored else int(np.random.SeedSequence().entropy
                                                            % 2**31)
    header = {"space": spaces.serialize(space),
              "settings": {**settings, "seed": int(seed), "failure_reward": failure_reward},
              "metadata": metadata or {}}
    resume = directory is not None and directory.open(header, overwrite=overwrite) == "resume"
    proposer = _proposer(space, settings, int(seed))
    records, cached, update = [], {}, 0
    if resume:
        stored_records = directory.read_records()
        done, checkpoint = 0, directory.load_checkpoint()
        if checkpoint is not None:
            state, update, done = checkpoint
            proposer.set_state(state)
        records = sorted((r for r in stored_records if r["trial"] < done), key=lambda r: r["trial"])
        cached = {r["trial"]: r for r in stored_records if r["trial"] >= done}
        directory.rewrite_records(records)

    def emit(record):
        if directory is not None:
            directory.append(record)
        if on_trial is not None:
            on_trial(record)

    own_executor = executor is None
    executor = InProcessExecutor() if own_executor else executor
    best = max((r for r in records if not r["failed"]), key=lambda r: r["reward"], default=None)
    try:
        while len(records) < trials:
            m = min(settings["children_per_update"], trials - len(records))
            proposals = proposer.propose(m, batch_seed(seed, update))
            first, batch = len(records), [None] * m
            arch_records = [space.to_record(arch) for arch, _ in proposals]
            for i in range(m):
                old = cached.pop(first + i, None)
                if old is not None and old["arch"] == arch_records[i]:
                    batch[i] = old
                    emit(old)
            pending = [i for i in range(m) if batch[i] is None]
            for k, result in executor.run(evaluate, [proposals[i][0] for i in pending]):
                i = pending[k]
                batch[i] = _record(first + i, update, arch_records[i], proposals[i][1], result,
                                   failure_reward, proposer.baseline)
                emit(batch[i])
            records.extend(batch)
            proposer.learn([arch for arch, _ in proposals], [r["reward"] for r in batch])
            update += 1
            if directory is not None:
                directory.save_checkpoint(proposer.get_state(), updates=update,
                                          trials=len(records))
            for record in batch:
                if not record["failed"] and (best is None or record["reward"] > best["reward"]):
                    best = record
                    if directory is not None:
                        directory.write_best(record["arch"])
    finally:
        if own_executor:
            executor.close()
    return records

