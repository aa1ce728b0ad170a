"""`CocoCategories`: a dataset's category ids mapped to contiguous classifier indices."""

import dataclasses
import functools


@dataclasses.dataclass(frozen=True)
class CocoCategories:
    """The categories of a COCO-format dataset and their classifier indices.

    COCO category ids may have gaps (COCO's 80 categories use ids 1..90) or be
    large (ids from a labelling tool's database); a classifier needs indices
    ``1..K`` (0 is the background). Categories are ordered by id: the ``i``-th
    smallest id is index ``i + 1``. A run stores `to_json` in its configuration
    so that predictions are written back with the dataset's own ids and shown
    with its names.

    Attributes:
        ids: the dataset's category ids, increasing.
        names: their names, in the same order.

    Example:

    >>> cats = CocoCategories.from_coco([{"id": 90, "name": "toothbrush"},
    ...                                  {"id": 1, "name": "person"}])
    >>> cats.index_of(90), cats.id_of(1), cats.num_classes
    (2, 1, 3)
    """

    ids: tuple
    names: tuple

    @classmethod
    def from_coco(cls, categories, *, where="the annotation file"):
        """From a COCO ``categories`` list (dicts with ``id`` and ``name``).

        Raises:
            ValueError: a category without an int ``id`` or a ``name``, duplicate ids, or no
                category at all (naming `where`).
        """
        if not isinstance(categories, list) or not categories:
            raise ValueError(f"Expected a non-empty 'categories' list in {where}. Received: "
                             f"{type(categories).__name__} {categories!r:.80}")
        pairs = {}
        for entry in categories:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), int) \
                    or isinstance(entry.get("id"), bool) or "name" not in entry:
                raise ValueError(f"Expected every category of {where} to have an int 'id' "
                                 f"and a 'name'. Received: {entry!r:.120}")
            if entry["id"] in pairs:
                raise ValueError(f"Expected unique category ids in {where}. Received: id "
                                 f"{entry['id']} twice")
            pairs[entry["id"]] = str(entry["name"])
        ids = tuple(sorted(pairs))
        return cls(ids=ids, names=tuple(pairs[i] for i in ids))

    @classmethod
    def from_json(cls, value):
        """From `to_json`'s list."""
        return cls(ids=tuple(int(c["id"]) for c in value), names=tuple(c["name"] for c in value))

    def to_json(self):
        """``[{"index": 1, "id": ..., "name": ...}, ...]`` (JSON-ready)."""
        return [{"index": i + 1, "id": cid, "name": name}
                for i, (cid, name) in enumerate(zip(self.ids, self.names))]

    @property
    def num_classes(self):
        """Classifier outputs: the categories and the background."""
        return len(self.ids) + 1

    def index_of(self, category_id):
        """The classifier index (1..K) of a dataset category id (KeyError if unknown)."""
        return self._indices[category_id]

    def id_of(self, index):
        """The dataset category id of a classifier index (1..K)."""
        return self.ids[index - 1]

    def name_of(self, index):
        """The name of a classifier index (1..K)."""
        return self.names[index - 1]

    @functools.cached_property
    def _indices(self):
        return {cid: i + 1 for i, cid in enumerate(self.ids)}


# COCO 2017's 80 object categories by id (instances_*.json "categories"; ids 1..90 with
# gaps). torchvision's COCO detectors predict at index = id, so their 91 outputs map
# through `coco_index_categories`.
COCO_CATEGORY_NAMES = {
    1: "person", 2: "bicycle", 3: "car", 4: "motorcycle", 5: "airplane", 6: "bus", 7: "train",
    8: "truck", 9: "boat", 10: "traffic light", 11: "fire hydrant", 13: "stop sign",
    14: "parking meter", 15: "bench", 16: "bird", 17: "cat", 18: "dog", 19: "horse",
    20: "sheep", 21: "cow", 22: "elephant", 23: "bear", 24: "zebra", 25: "giraffe",
    27: "backpack", 28: "umbrella", 31: "handbag", 32: "tie", 33: "suitcase", 34: "frisbee",
    35: "skis", 36: "snowboard", 37: "sports ball", 38: "kite", 39: "baseball bat",
    40: "baseball glove", 41: "skateboard", 42: "surfboard", 43: "tennis racket",
    44: "bottle", 46: "wine glass", 47: "cup", 48: "fork", 49: "knife", 50: "spoon",
    51: "bowl", 52: "banana", 53: "apple", 54: "sandwich", 55: "orange", 56: "broccoli",
    57: "carrot", 58: "hot dog", 59: "pizza", 60: "donut", 61: "cake", 62: "chair",
    63: "couch", 64: "potted plant", 65: "bed", 67: "dining table", 70: "toilet", 72: "tv",
    73: "laptop", 74: "mouse", 75: "remote", 76: "keyboard", 77: "cell phone",
    78: "microwave", 79: "oven", 80: "toaster", 81: "sink", 82: "refrigerator", 84: "book",
    85: "clock", 86: "vase", 87: "scissors", 88: "teddy bear", 89: "hair drier",
    90: "toothbrush",
}
UNUSED_ID_NAME = "N/A"  # the ten ids COCO 2017 leaves out (12, 26, ...), as torchvision names them


def coco_index_categories(num_classes=91):
    """`CocoCategories.to_json` of a detector whose classifier index is the COCO id
    (torchvision's 91 outputs: background 0, ids 1..90, unused ids named "N/A")."""
    return [{"index": i, "id": i, "name": COCO_CATEGORY_NAMES.get(i, UNUSED_ID_NAME)}
            for i in range(1, num_classes)]
