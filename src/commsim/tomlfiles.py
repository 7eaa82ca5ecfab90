"""Finding and reading the project's TOML files (scenarios, experiments, targets): a path as given or a shipped
file by bare name, and one clear error naming the file when it cannot be read."""

import site
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parents[2]


def shipped_dir(folder: str) -> Path:
    """Where the shipped `folder` (scenarios, experiments, targets) is: the checkout's top-level folder when
    running from a clone (editable install), else the copy an install puts in <prefix>/share/commsim."""
    candidates = [CHECKOUT / folder]
    candidates += [Path(base) / "share" / "commsim" / folder for base in (sys.prefix, site.getuserbase())]
    try:
        files = metadata.files("commsim") or []
    except metadata.PackageNotFoundError:
        files = []
    candidates += [Path(str(f.locate())).parent for f in files if f.suffix == ".toml" and f.parent.name == folder]
    return next((path for path in candidates if path.is_dir()), CHECKOUT / folder)


def find(name: str | Path, folder: Path, kind: str, error: type[Exception]) -> Path:
    """`name` as a path if it is a file, else `folder/<name>.toml` for a bare name; `error` lists what ships."""
    path = Path(name)
    if path.is_file():
        return path
    shipped = folder / f"{path.stem}.toml"
    if shipped.exists() and len(path.parts) == 1 and path.suffix in ("", ".toml"):
        return shipped
    names = ", ".join(p.stem for p in sorted(folder.glob("*.toml"))) or "none"
    raise error(f"{name}: no such {kind} file (shipped: {names})")


def read(path: Path, error: type[Exception]) -> dict[str, Any]:
    """The file's TOML as a dict; `error` names the file when it is not TOML or cannot be read."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise error(f"{path}: not valid TOML: {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{path}: cannot read: {getattr(err, 'strerror', None) or err}") from None
