"""The package layout is the data flow: each stage imports only stages below it, and the heavy libraries stay in
the stages that need them. Read from the source (every import, also inside functions), nothing is imported."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import commsim

PACKAGE = Path(commsim.__file__).resolve().parent
# Bottom to top. A module may import its own stage and those listed before it. Root modules: `errors` and
# `outfiles` are the ground floor every stage may use; `__init__` and `__main__` stand above everything.
STAGES = ("base", "scenario", "model", "store", "runs", "results", "evidence", "reports", "ui", "cli", "top")
BASE = {"errors", "outfiles"}
LIBRARIES = {  # library -> the stages that may import it
    "matplotlib": {"reports", "ui"},
    "sqlalchemy": {"store"},
    "alembic": {"store"},
    "typer": {"cli"},
    "rich": {"cli"},
    "solara": {"ui"},
    "geopandas": {"scenario"},
    "pyogrio": {"scenario"},
    "pyproj": {"scenario"},
    "shapely": {"scenario"},
}


def stage_of(module: str) -> str:
    """`commsim.model.rng` -> model; `commsim.errors` and `commsim.__version__` -> base; `commsim` and
    `commsim.__main__` -> top."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("__main__", "__init__"):
        return "top"
    return "base" if parts[1] in BASE or parts[1] == "__version__" else parts[1]


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, absolute or relative."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            found.append((node.lineno, module))
            if module in ("commsim",) or (node.module is None and node.level):
                found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def violations() -> list[str]:
    found = []
    for path in sources():
        mine = stage_of(module_name(path))
        for line, module in imports(path):
            where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
            top = module.split(".")[0]
            if top == "commsim" and module != "commsim":
                theirs = stage_of(module)
                if STAGES.index(theirs) > STAGES.index(mine):
                    found.append(f"{where}: {mine} is below {theirs}")
            elif top in LIBRARIES and mine not in LIBRARIES[top]:
                found.append(f"{where}: {top} belongs to {', '.join(sorted(LIBRARIES[top]))}")
    return found


def test_every_stage_imports_only_stages_below_it_and_its_own_libraries():
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()) == sorted(
        s for s in STAGES if s not in ("base", "top")
    )
    assert not violations(), "\n".join(violations())


def test_a_planted_backward_import_is_caught(tmp_path, monkeypatch):
    planted = PACKAGE / "model" / "_planted_backward_import.py"
    planted.write_text("from commsim.store import database\nimport typer\n", encoding="utf-8")
    try:
        found = [v for v in violations() if "_planted_backward_import" in v]
    finally:
        planted.unlink()
    assert len(found) == 2 and "model is below store" in found[0] and "typer belongs to cli" in found[1]


PAGES = {"commsim.ui.live", "commsim.ui.compare_page", "commsim.ui.sweeps_page"}


def test_no_page_of_the_app_imports_another_page():
    """What two pages share lives in a module of its own (`ui.scenarios`, `ui.stored`, `ui.widgets`)."""
    crossing = [
        f"{module} imports {imported}"
        for module in PAGES
        for _, imported in imports(PACKAGE.parent.joinpath(*module.split(".")).with_suffix(".py"))
        if imported in PAGES - {module}
    ]
    assert not crossing, crossing


IMPORT_EVERYTHING = """
import importlib, json, os, pkgutil, sys
import commsim
before = dict(os.environ)
opened = []
def watch(event, args):
    if event == "open" and str(args[0]).endswith(".toml"):
        opened.append(str(args[0]))
sys.addaudithook(watch)
names = [m.name for m in pkgutil.walk_packages(commsim.__path__, "commsim.") if ".migrations" not in m.name
         and not m.name.endswith("__main__") and m.name != "commsim.ui.serve"]
for name in names:
    importlib.import_module(name)
changed = sorted(set(os.environ.items()) ^ set(before.items()))
print(json.dumps({"modules": len(names), "env": changed, "opened": opened}))
"""


def test_importing_every_module_changes_nothing():
    """Nothing happens at import: no environment variable set (OpenMP's are set at model build), no shipped file
    read (the folders are found when asked)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["modules"] > 50
    assert report["env"] == [] and report["opened"] == []
