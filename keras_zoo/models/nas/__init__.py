"""Neural Architecture Search with reinforcement learning (Zoph & Le 2016, arXiv:1611.01578).

Search spaces follow one protocol (`spaces`): `SearchSpace` is the CNN space
(Sec. 3.1-3.3, architectures are `Architecture` values of `LayerSpec`
layers, built by `build_child`), `RecurrentCellSpace` the recurrent-cell
space (Sec. 3.4, `CellArchitecture` values, built as a `RecurrentCell` and
trained in a `LanguageModel`), `ChoiceSpace` a plain list of categorical
decisions. `Controller` is the autoregressive LSTM policy over any of them.
The search loop, its algorithms and the child trainers live in
`keras_zoo.train.nas`.
"""

from keras_zoo.models.nas import spaces
from keras_zoo.models.nas.architecture import Architecture
from keras_zoo.models.nas.build_child import build_child
from keras_zoo.models.nas.cell_architecture import CellArchitecture
from keras_zoo.models.nas.choice_space import ChoiceSpace
from keras_zoo.models.nas.controller import Controller
from keras_zoo.models.nas.decision import Decision
from keras_zoo.models.nas.language_model import LanguageModel
from keras_zoo.models.nas.layer_spec import LayerSpec
from keras_zoo.models.nas.recurrent_cell import RecurrentCell
from keras_zoo.models.nas.recurrent_cell_space import RecurrentCellSpace
from keras_zoo.models.nas.search_space import SearchSpace

__all__ = ["Architecture", "CellArchitecture", "ChoiceSpace", "Controller", "Decision",
           "LanguageModel", "LayerSpec", "RecurrentCell", "RecurrentCellSpace", "SearchSpace",
           "build_child", "spaces"]
