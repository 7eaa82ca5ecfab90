"""Writing the files a command produces, so that nothing already there is lost: a file that exists is replaced
only when the user says `--overwrite`, the results database and the command's inputs never, and every file is
written beside its target and renamed over it, so a full disk or a crash leaves the old file or none, never a
partial one. Every check runs before the work, so a bad `--out` fails in a second, not after an hour's runs."""

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from commsim.errors import CommsimError

OVERWRITE_HELP = "Replace output files that already exist (never the results database or an input file)."


class OutputError(CommsimError):
    """An output path that would lose data or cannot be written; the message names the flag and the path."""


def _same(path: Path, others: Iterable[Path]) -> Path | None:
    """The first of `others` that is the same file as `path` (by inode when both exist, else by resolved path)."""
    for other in others:
        try:
            if path.exists() and other.exists() and os.path.samefile(path, other):
                return other
        except OSError:
            pass
        if path.resolve() == other.resolve():
            return other
    return None


def _writable_dir(folder: Path, flag: str) -> None:
    """Create `folder` if needed and prove a file can be made in it (a read-only or full folder fails here)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".commsim-probe-"):
            pass
    except OSError as error:
        raise OutputError(
            f"{flag} {folder}: cannot create the directory or write in it: {error.strerror or error}"
        ) from None


def _guard(path: Path, *, overwrite: bool, flag: str, protected: Iterable[Path]) -> None:
    """Refuse `path` when it is protected (even with overwrite), a directory, or an existing file."""
    hit = _same(path, protected)
    if hit is not None:
        raise OutputError(f"{flag} {path}: is {hit}, which this command reads; give another file name")
    if path.is_dir():
        raise OutputError(f"{flag} {path}: is a directory; give a file name")
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise OutputError(f"{flag} {path}: already exists; give a new name, or --overwrite to replace it")


def check_file(path: Path, *, overwrite: bool, flag: str = "--out", protected: Iterable[Path] = ()) -> Path:
    """`path` may be written as one output file: its folder is writable, and it is not one of `protected`, a
    directory, or (unless `overwrite`) a file that exists. Returns the path."""
    path = Path(path)
    _guard(path, overwrite=overwrite, flag=flag, protected=list(protected))
    _writable_dir(path.parent, flag)
    return path


def check_dir(
    path: Path, names: Iterable[str], *, overwrite: bool, flag: str = "--out", protected: Iterable[Path] = ()
) -> Path:
    """`path` may take the output files `names`: it is (or becomes) a writable directory, and none of the files
    exists in it unless `overwrite`; none is one of `protected`. Returns the path."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{flag} {path}: exists and is not a directory")
    protected = list(protected)
    there = [name for name in names if (path / name).exists()]
    for name in names:
        hit = _same(path / name, protected)
        if hit is not None:
            raise OutputError(f"{flag} {path}: would replace {hit}, which this command reads; give another directory")
    if there and not overwrite:
        raise OutputError(
            f"{flag} {path}: already holds {', '.join(there)}; give a new directory, or --overwrite to replace them"
        )
    _writable_dir(path, flag)
    return path


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to; renamed over `path` when the block ends, removed if it fails
    (a full disk, an error, Ctrl-C), so `path` is never left partly written."""
    path = Path(path)
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise OutputError(f"{path}: cannot write: {error.strerror or error}") from None
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(handle, 0o666 & ~umask)  # the mode a plain open() would give, not mkstemp's 0600
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write: {error.strerror or error}; nothing was written") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` through `replacing`; returns the path."""
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)
