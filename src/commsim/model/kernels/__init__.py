"""Numba kernels: per-agent rules (plain Python, compiled by Numba) and the loops that apply them.

`kernel` compiles a loop and caches it on disk, like `njit(cache=True)`, but keyed by every commsim source file
the kernel's module imports, directly or not (rules inlined from `rng` and `metrics`): Numba's own cache looks
only at the file that defines the kernel, so an edited inlined rule would keep running the old compiled code.
"""

import ast
import hashlib
from collections.abc import Callable
from functools import cache
from pathlib import Path

from numba import njit
from numba.core.caching import (
    CompileResultCacheImpl,
    FunctionCache,
    InTreeCacheLocator,
    UserProvidedCacheLocator,
    UserWideCacheLocator,
)

PACKAGE = Path(__file__).resolve().parents[2]  # src/commsim


def _module_file(name: str) -> Path | None:
    """The source file of a commsim module (`commsim.model.rng` -> .../rng.py), None if it is not one."""
    if name != "commsim" and not name.startswith("commsim."):
        return None
    base = PACKAGE.joinpath(*name.split(".")[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[Path]:
    """The commsim source files that `path` imports (`import commsim.x`, `from commsim import x`, ...)."""
    found: set[Path] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        found.update(file for file in map(_module_file, names) if file is not None)
    return found


@cache
def source_files(path: Path) -> tuple[Path, ...]:
    """`path` and every commsim source file it imports, directly or through others, sorted."""
    seen, todo = set(), [path]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(_imports(current) - seen)
    return tuple(sorted(seen))


class _TreeStamp:
    """A locator mixin whose source stamp is a hash of the kernel's file and every commsim file it imports."""

    _py_file: str

    def get_source_stamp(self) -> str:
        digest = hashlib.sha256()
        for path in source_files(Path(self._py_file).resolve()):
            digest.update(path.read_bytes())
        return digest.hexdigest()


class _UserProvided(_TreeStamp, UserProvidedCacheLocator):
    pass


class _InTree(_TreeStamp, InTreeCacheLocator):
    pass


class _UserWide(_TreeStamp, UserWideCacheLocator):
    pass


class _TreeCacheImpl(CompileResultCacheImpl):
    _locator_classes = (_UserProvided, _InTree, _UserWide)  # as Numba: $NUMBA_CACHE_DIR, __pycache__, ~/.cache


class _TreeCache(FunctionCache):
    _impl_class = _TreeCacheImpl


def kernel(**options: bool) -> Callable[[Callable], Callable]:
    """`njit(**options)` with an on-disk cache that follows every commsim source file the kernel depends on."""

    def compile_cached(function: Callable) -> Callable:
        dispatcher = njit(**options)(function)
        dispatcher._cache = _TreeCache(dispatcher.py_func)  # what Dispatcher.enable_caching does, with our locators
        return dispatcher

    return compile_cached
