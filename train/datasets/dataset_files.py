"""The files of one dataset, from a folder or a ``.tar.gz`` archive, by base name.

Archives are read in one sequential pass into memory and never extracted to
disk, so member paths (``../../etc/...``) cannot write anywhere.
"""

import gzip
import tarfile
import zlib
from pathlib import Path


class DatasetFiles:
    """Read-only view of a dataset's files, keyed by base name.

    Build it with `DatasetFiles.from_folder(path)` or
    `DatasetFiles.from_archive(path)`.

    Attributes:
        where: the folder or archive path (for error messages).
        names: frozenset of the base names of the regular files present.
    """

    def __init__(self, where, names, reader):
        self.where = str(where)
        self.names = frozenset(names)
        self._reader = reader

    @classmethod
    def from_folder(cls, folder):
        folder = Path(folder)
        names = [p.name for p in folder.iterdir() if p.is_file()]
        return cls(folder, names, lambda name: (folder / name).read_bytes())

    @classmethod
    def from_archive(cls, archive, *, what):
        """Read every regular file of a tar archive (any compression) into memory.

        Raises:
            ValueError: the file is not a readable tar archive (naming `what`).
        """
        contents = {}
        try:
            with tarfile.open(archive, "r:*") as tar:
                for member in tar:
                    name = member.name.rsplit("/", 1)[-1]
                    if member.isfile() and name not in contents:
                        contents[name] = tar.extractfile(member).read()
        except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
            detail = " ".join(str(error).split())  # one line, whatever tarfile says
            raise ValueError(
                f"Expected {what}. Received: data_dir={str(archive)!r}, which is not a "
                f"readable tar archive ({type(error).__name__}: {detail}); download it again."
            ) from None
        return cls(archive, contents, contents.__getitem__)

    def read(self, name):
        """Bytes of file `name`; a ``.gz`` name is decompressed.

        Raises:
            ValueError: a ``.gz`` file that is not valid gzip.
        """
        data = self._reader(name)
        if name.endswith(".gz"):
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error) as error:
                raise ValueError(
                    f"Expected {name} in {self.where} to be gzip-compressed. Received: a file "
                    f"gzip cannot read ({error}); download it again."
                ) from None
        return data

    def first_present(self, *names):
        """The first of `names` that is present, or None."""
        return next((n for n in names if n in self.names), None)
