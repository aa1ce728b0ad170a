"""Neural Architecture Search with reinforcement learning (Zoph & Le 2016): the search.

>>> from keras_zoo.models import nas as nas_models
>>> from keras_zoo.train import nas
>>> space = nas_models.SearchSpace(4)
>>> records = nas.search(space, nas.TargetMatchReward(space), trials=600, seed=0)
>>> records = nas.search([9, 9, 9], lambda arch: -sum(arch), trials=100, algorithm="evolution")

`search` is the loop over any search space (`keras_zoo.models.nas.spaces`) or a
plain list of choice counts; `PolicyGradient` (REINFORCE / PPO, `losses`),
`RegularizedEvolution` and `RandomSearch` propose architectures;
`ChildTrainer` (a CNN child, validation accuracy) and `LanguageModelTrainer`
(a recurrent cell's language model, c / perplexity^2) are the paper's
rewards, `benchmarks.NASBench201` a tabular one; `executors` run the
children in process, in worker processes or on Ray; `SearchDirectory` holds
a search's files. ``keras-zoo search`` is `command`. The algorithms, the
executors and the rewards know nothing of each other: the loop passes
architectures and rewards between them.
"""

from keras_zoo.train.nas import benchmarks, executors, losses, presets
from keras_zoo.train.nas.child_trainer import ChildTrainer
from keras_zoo.train.nas.evolution import RegularizedEvolution
from keras_zoo.train.nas.language_model_trainer import LanguageModelTrainer
from keras_zoo.train.nas.policy_gradient import PolicyGradient
from keras_zoo.train.nas.random_search import RandomSearch
from keras_zoo.train.nas.search import ALGORITHMS, search
from keras_zoo.train.nas.search_directory import SearchDirectory
from keras_zoo.train.nas.synthetic_reward import TargetMatchReward
from keras_zoo.train.nas.text_corpus import TextCorpus, load_text

__all__ = ["ALGORITHMS", "ChildTrainer", "LanguageModelTrainer", "PolicyGradient",
           "RandomSearch", "RegularizedEvolution", "SearchDirectory", "TargetMatchReward",
           "TextCorpus", "benchmarks", "executors", "load_text", "losses", "presets", "search"]
