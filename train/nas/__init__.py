"""Neural Architecture Search with reinforcement learning (Zoph & Le 2016): the search.

>>> from keras_zoo.models import nas as nas_models
>>> from keras_zoo.train import nas
>>> space = nas_models.SearchSpace(4)
>>> records = nas.search(space, nas.TargetMatchReward(space), trials=600, seed=0)

`search` is the loop; `PolicyGradient` (REINFORCE / PPO, `losses`) and
`RandomSearch` propose architectures; `ChildTrainer` is the standard reward
(a child trained with `model.fit`, its validation accuracy); `executors`
run the children in process, in a process pool or on Ray;
`SearchDirectory` holds a search's files. ``keras-zoo search`` is
`command`. The controller, the executors and the child trainer know nothing
of each other: the loop passes architectures and rewards between them.
"""

from keras_zoo.train.nas import executors, losses, presets
from keras_zoo.train.nas.child_trainer import ChildTrainer
from keras_zoo.train.nas.policy_gradient import PolicyGradient
from keras_zoo.train.nas.random_search import RandomSearch
from keras_zoo.train.nas.search import search
from keras_zoo.train.nas.search_directory import SearchDirectory
from keras_zoo.train.nas.synthetic_reward import TargetMatchReward

__all__ = ["ChildTrainer", "PolicyGradient", "RandomSearch", "SearchDirectory", "TargetMatchReward",
           "executors", "losses", "presets", "search"]
