"""`ConfigObject`: the base of the detector's small serialisable objects (anchor
generator, matcher, sampler, box coder): plain Python objects whose constructor
arguments are their `get_config`."""


class ConfigObject:
    """`from_config` rebuilds from `get_config`; equality and `repr` follow the config."""

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __hash__(self):
        return hash((type(self).__name__, repr(sorted(self.get_config().items()))))

    def __repr__(self):
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({arguments})"
