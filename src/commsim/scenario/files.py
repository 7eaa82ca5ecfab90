"""Finding and reading the project's TOML files (scenarios, experiments, targets): a path as given or a shipped
file by bare name, and one clear error naming the file (and the key) when it cannot be read. Only regular files
of at most MAX_BYTES are read, and nesting is bounded, so no input hangs, exhausts memory or overflows the stack."""

import ast
import os
import re
import site
import stat
import sys
import tomllib
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parents[3]
MAX_BYTES = 1 << 20  # 1 MiB: the largest shipped file is a few KB
MAX_DEPTH = 32  # levels of tables and arrays; scenarios need 3


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


def shown(name: str | Path) -> str:
    """A file name as a message shows it: quoted when it is empty or not printable text (so it is one line)."""
    text = str(name)
    return text if text and text.isprintable() else repr(text)


def shown_key(part: str) -> str:
    """One part of a key path as messages show it: quoted unless printable (one line), cut when long."""
    text = part if part.isprintable() else repr(part)
    return text if len(text) <= 80 else f"{text[:77]}..."


def shown_value(value: Any) -> str:
    """A bad value as messages show it: its repr, cut when long, so that a message stays one short line."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def find(name: str | Path, folder: Path, kind: str, error: type[Exception]) -> Path:
    """`name` as a path if it is a file, else `folder/<name>.toml` for a bare name; `error` lists what ships."""
    path = Path(name)
    if str(name) and path.is_file():
        return path
    shipped = folder / f"{path.stem}.toml"
    if str(name) and shipped.exists() and len(path.parts) == 1 and path.suffix in ("", ".toml"):
        return shipped
    problem = unreadable(path) if str(name) else None
    if problem and not problem.startswith("no such file"):
        raise error(f"{shown(name)}: {problem}")
    names = ", ".join(p.stem for p in sorted(folder.glob("*.toml"))) or "none"
    raise error(f"{shown(name)}: no such {kind} file (shipped: {names})")


def unreadable(path: Path) -> str | None:
    """Why `path` is not a TOML file this reads (missing, not a regular file, too large), or None."""
    try:
        return _refused(path.stat())
    except FileNotFoundError:
        return "no such file"
    except (OSError, ValueError) as err:
        return f"cannot read: {getattr(err, 'strerror', None) or err}"


def _refused(info: os.stat_result) -> str | None:
    if stat.S_ISDIR(info.st_mode):
        return "is a directory, not a file"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a device, pipe or socket); give a TOML file"
    if info.st_size > MAX_BYTES:
        return f"too large ({info.st_size:,} bytes; a TOML file here may have at most {MAX_BYTES:,} bytes)"
    return None


class _Refused(Exception):
    """A file refused before its contents are parsed."""


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, refused before reading when it is not a regular file or too large. Opened without
    blocking, so a FIFO swapped in after the check cannot hang the read either."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(descriptor, "rb") as handle:
        problem = _refused(os.fstat(handle.fileno()))
        if problem:
            raise _Refused(problem)
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise _Refused(f"too large (over {MAX_BYTES:,} bytes; a TOML file here may have at most {MAX_BYTES:,})")
    return data


def read(path: Path, error: type[Exception]) -> dict[str, Any]:
    """The file's TOML as a dict; `error` names the file (and the key) when it is not TOML or cannot be read."""
    try:
        text = _read_bytes(path).decode("utf-8")
    except _Refused as err:
        raise error(f"{shown(path)}: {err}") from None
    except UnicodeDecodeError as err:
        raise error(f"{shown(path)}: cannot read: not UTF-8 text (byte {err.start})") from None
    except (OSError, ValueError) as err:
        raise error(f"{shown(path)}: cannot read: {getattr(err, 'strerror', None) or err}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise error(f"{shown(path)}: {decode_message(text, err)}") from None
    except RecursionError:
        raise error(f"{shown(path)}: nested too deeply (at most {MAX_DEPTH} levels of tables and arrays)") from None
    deep = too_deep(data)
    if deep is not None:
        raise error(f"{shown(path)}: {deep}: nested too deeply (at most {MAX_DEPTH} levels of tables and arrays)")
    return data


def too_deep(data: Mapping[str, Any], limit: int = MAX_DEPTH) -> str | None:
    """The key path where `data` nests deeper than `limit` tables and arrays, or None (checked without
    recursion)."""
    stack: list[tuple[str, Any, int]] = [(shown_key(str(key)), value, 1) for key, value in data.items()]
    while stack:
        where, value, depth = stack.pop()
        children = value.items() if isinstance(value, Mapping) else enumerate(value) if isinstance(value, list) else ()
        for key, child in children:
            if depth >= limit:
                return where
            step = f".{shown_key(str(key))}" if isinstance(value, Mapping) else f"[{key}]"
            stack.append((f"{where}{step}", child, depth + 1))
    return None


_OVERWRITE = re.compile(r"Cannot overwrite a value \((?:at line (\d+), column \d+|at end of document)\)")
_DECLARED = re.compile(r"Cannot declare (\(.*\)) twice \((.*)\)")
_INLINE = re.compile(r"Duplicate inline table key (.*) \(at line (\d+), column \d+\)")


def decode_message(text: str, err: tomllib.TOMLDecodeError) -> str:
    """tomllib's message, with the key named when it is defined twice (tomllib gives only line and column)."""
    message = str(err)
    overwrite, declared, inline = (pattern.fullmatch(message) for pattern in (_OVERWRITE, _DECLARED, _INLINE))
    lines = text.split("\n")  # tomllib counts lines by \n alone
    if inline:
        number = int(inline.group(2))
        key = f"{_key_at(lines, number)}.{shown_key(inline.group(1).strip(chr(39)))}"
        return f"{key}: defined twice (line {number}); each key may be given once"
    if overwrite:
        number = int(overwrite.group(1)) if overwrite.group(1) else _last_line(lines)
        return f"{_key_at(lines, number)}: defined twice (line {number}); each key may be given once"
    if declared:
        try:
            key = ".".join(shown_key(str(part)) for part in ast.literal_eval(declared.group(1)))
        except (ValueError, SyntaxError, TypeError):
            key = shown_key(declared.group(1))
        return f"[{key}]: table declared twice ({declared.group(2)}); each table may be declared once"
    return f"not valid TOML: {message}"


def _last_line(lines: list[str]) -> int:
    return next((i + 1 for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), max(len(lines), 1))


def _key_at(lines: list[str], number: int) -> str:
    """The dotted key defined at line `number` (1-based): its table header and the text before `=`."""
    line = lines[number - 1].strip() if 0 < number <= len(lines) else ""
    if line.startswith("["):
        return _dotted(line.split("#", 1)[0].strip().strip("[]"))
    table = next((lines[i].strip() for i in range(number - 2, -1, -1) if lines[i].strip().startswith("[")), "")
    key = _dotted(line.split("=", 1)[0])
    header = _dotted(table.split("#", 1)[0].strip().strip("[]")) if table else ""
    return f"{header}.{key}" if header else key


def _dotted(key: str) -> str:
    return ".".join(shown_key(part.strip()) for part in key.split("."))
