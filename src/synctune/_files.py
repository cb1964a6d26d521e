"""Write a file atomically: a temporary file in the same folder, flushed, then renamed.

A reader (or a resumed run) sees the whole old file or the whole new one, never a part, even
if the writer is killed; the new file gets the permissions the process's umask gives any file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

#: leftovers of killed writers look like ``.NAME.<random>.tmp``
TEMP_SUFFIX = ".tmp"


def _umask() -> int:
    # reading the umask means setting it: set it straight back
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(path: str | os.PathLike[str], write: Callable[[str], object]) -> Path:
    """Create or replace ``path`` with what ``write(temp_path)`` writes; return ``path``.

    ``write`` gets the temporary file's name and writes it whole (``df.to_csv``, a parquet
    writer...). On any error the temporary file is removed and ``path`` is left as it was.
    """
    final = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=TEMP_SUFFIX,
                               dir=final.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        # mkstemp makes the file 0600; an output file is as readable as any other the user makes
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(final.parent)
    return final


def _fsync_dir(folder: Path) -> None:
    # make the rename itself durable; some platforms cannot open a directory, and lose nothing
    # but that guarantee there
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomically(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`write_atomically` for a UTF-8 text."""
    return write_atomically(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
