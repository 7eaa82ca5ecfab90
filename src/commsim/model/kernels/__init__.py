"""Numba kernels: per-agent rules (plain Python, compiled by Numba) and the loops that apply them.

`kernel` compiles a loop and caches it on disk, like `njit(cache=True)`, but keyed by every commsim source file
the kernel's module imports, directly or not (rules inlined from `rng` and `metrics`): Numba's own cache looks
only at the file that defines the kernel, so an edited inlined rule would keep running the old compiled code.

A parallel kernel compiles through `_ParforCompiler`, whose lowering reads each argument once. Numba's parallel
lowering keeps every variable on the stack and reloads a tuple argument once for each of its fields that it
hands to the threads' loop; for the household kernels that is ~300 loads of tables and parameters of a few
hundred scalars each, which LLVM's SROA pass took ~20 s per kernel to split apart again (of a cold compile of
~30 s). Read once, the same function optimises in under a second.
"""

import ast
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from types import FunctionType

from numba import njit
from numba.core import config, ir
from numba.core.caching import (
    CompileResultCacheImpl,
    FunctionCache,
    InTreeCacheLocator,
    UserProvidedCacheLocator,
    UserWideCacheLocator,
)
from numba.core.compiler import CompilerBase, DefaultPassBuilder
from numba.core.compiler_machinery import register_pass
from numba.core.dispatcher import Dispatcher
from numba.core.typed_passes import NativeParforLowering
from numba.extending import register_jitable
from numba.parfors.parfor import Parfor
from numba.parfors.parfor_lowering import ParforLower

PACKAGE = Path(__file__).resolve().parents[2]  # src/commsim
# A parallel region unpacks the tuples it is handed only up to this many fields (Numba's default is 100); the
# parameter tuple (params.Params) holds every number of the scenario's behaviour sections, about a hundred.
config.PARFOR_MAX_TUPLE_SIZE = max(config.PARFOR_MAX_TUPLE_SIZE, 256)
NOT_PRANGE = ("comprehension", "reduction", "inplace_binop", "setitem", "numpy", "stencil", "fusion")


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


def _assignments(blocks: Iterable[ir.Block], counts: Counter) -> Counter:
    """How often each variable is assigned in `blocks`, counting inside parallel loops too."""
    for block in blocks:
        for stmt in block.body:
            if isinstance(stmt, ir.Assign):
                counts[stmt.target.name] += 1
            elif isinstance(stmt, Parfor):
                _assignments([stmt.init_block, *stmt.loop_body.values()], counts)
    return counts


class _ArgsOnceLower(ParforLower):
    """Numba's parallel lowering, except that an argument the function never reassigns is read from the value
    it arrived as (defined in the entry block, so it dominates every use) instead of reloaded from the stack."""

    def pre_lower(self) -> None:
        super().pre_lower()
        counts = _assignments(self.func_ir.blocks.values(), Counter())
        self._fixed = {name for name in self.func_ir.arg_names if counts[name] == 1}
        self._arrived: dict[str, object] = {}

    def storevar(self, value, name, argidx=None):
        super().storevar(value, name, argidx)
        if argidx is not None and name in self._fixed:
            self._arrived[name] = value

    def loadvar(self, name):
        value = self._arrived.get(name)
        return super().loadvar(name) if value is None else value


@register_pass(mutates_CFG=True, analysis_only=False)
class _ArgsOnceLowering(NativeParforLowering):
    _name = "commsim_args_once_parfor_lowering"

    @property
    def lowering_class(self) -> type:
        return _ArgsOnceLower


class _ParforCompiler(CompilerBase):
    """Numba's nopython pipeline with `_ArgsOnceLowering` in place of its parallel lowering."""

    def define_pipelines(self) -> list:
        pm = DefaultPassBuilder.define_nopython_pipeline(self.state)
        pm.passes = [(_ArgsOnceLowering if cls is NativeParforLowering else cls, what) for cls, what in pm.passes]
        pm.finalize()
        return [pm]


def rule(function: Callable | None = None, *, nrt: bool = False) -> Callable:
    """A per-agent rule: plain Python where the Python twin calls it, compiled by Numba into the loops that call it
    (`register_jitable`). Without reference counting unless `nrt` (a rule that allocates; the tables cross the
    call as they are), and without the C-callable wrapper Numba would also compile for it (nothing calls a rule
    by address): the wrappers of the household rules were a tenth of a cold compile."""
    decorate = register_jitable(_nrt=nrt, no_cfunc_wrapper=True)
    return decorate if function is None else decorate(function)


def _compiled(function: Callable, options: dict) -> Dispatcher:
    """`njit(**options)(function)` with the disk cache of `kernel`."""
    dispatcher = njit(no_cfunc_wrapper=True, **options)(function)  # called from Python only, never by address
    dispatcher._cache = _TreeCache(dispatcher.py_func)  # what Dispatcher.enable_caching does, with our locators
    return dispatcher


def kernel(parallel: bool = False) -> Callable[[Callable], Dispatcher]:
    """`njit` with an on-disk cache that follows every commsim source file the kernel depends on; `parallel`
    compiles its prange loops to threads (and nothing else: array fills stay plain loops)."""
    options = {}
    if parallel:
        # numpy's error model: the loop body gets it from Numba anyway, so the rules it calls compile once, not
        # once more under Python's for typing the kernel
        options = {"parallel": {"prange": True, **dict.fromkeys(NOT_PRANGE, False)}, "error_model": "numpy"}
        options["pipeline_class"] = _ParforCompiler
    return lambda function: _compiled(function, options)


def serial(parallel_kernel: Dispatcher) -> Dispatcher:
    """The same loop compiled for one thread (prange runs as range), with the parallel kernel's error model so
    that the two compute alike; cached under its own name (`decide_serial`), since Numba's cache index does
    not tell a parallel compile from a serial one. Compiles in about half the time of the parallel kernel."""
    function = parallel_kernel.py_func
    name = f"{function.__name__}_serial"
    twin = FunctionType(function.__code__, function.__globals__, name, function.__defaults__, function.__closure__)
    twin.__qualname__ = f"{function.__qualname__}_serial"
    twin.__doc__ = function.__doc__
    return _compiled(twin, {"error_model": "numpy"})


def cached(dispatcher: Dispatcher, signature: tuple) -> bool:
    """Whether the disk cache holds `dispatcher` compiled for `signature` from the current sources: what its
    first call with these argument types would load (True) or compile (False)."""
    cache = dispatcher._cache
    key = cache._index_key(signature, dispatcher.targetctx.codegen())
    return key in cache._cache_file._load_index()
