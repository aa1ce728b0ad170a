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
