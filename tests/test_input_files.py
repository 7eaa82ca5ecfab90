"""Scenario, experiment and targets files that are not what they seem: deep nesting, duplicate keys, `extends` to
symlink loops, devices, FIFOs, directories or nothing, huge files. Each ends in one message naming the file (and
the key), never a traceback, a hang or a read of what the user did not name."""

import os
import threading
from pathlib import Path

import pytest

from commsim.evidence.targets import TargetsError, load_targets
from commsim.runs.experiment import ExperimentError, load_experiment
from commsim.scenario import files as tomlfiles
from commsim.scenario.loader import ScenarioError, load_scenario
from commsim.scenario.schema import Groups

LOADERS = [(load_scenario, ScenarioError), (load_experiment, ExperimentError), (load_targets, TargetsError)]
LOADER_IDS = ["scenario", "experiment", "targets"]
LOOP = "too many levels of symbolic links"  # strerror(ELOOP)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def message(load, error, source) -> str:
    """The one message a loader raises for `source` (bounded in time: a hang fails the test)."""
    outcome: list[BaseException | None] = []
    worker = threading.Thread(target=lambda: outcome.append(_raised(load, source)), daemon=True)
    worker.start()
    worker.join(10)
    assert outcome, f"{load.__name__}({source}) did not return within 10 s"
    raised = outcome[0]
    assert isinstance(raised, error), f"expected {error.__name__}, got {raised!r}"
    return str(raised)


def _raised(load, source) -> BaseException | None:
    try:
        load(source)
    except BaseException as err:  # the test inspects whatever comes out
        return err
    return None


@pytest.mark.parametrize(("load", "error"), LOADERS, ids=LOADER_IDS)
@pytest.mark.parametrize(
    "text",
    ["a = " + "[" * 5000 + "]" * 5000, "a = " + "{b = " * 3000 + "1" + "}" * 3000, "a = " + "[" * 40 + "]" * 40],
    ids=["5000 arrays", "3000 inline tables", "40 arrays"],
)
def test_deep_nesting_is_one_message_naming_the_file(tmp_path, load, error, text):
    path = write(tmp_path / "deep.toml", text)
    text = message(load, error, path)
    assert text.startswith(f"{path}: ") and "nested too deeply" in text and f"at most {tomlfiles.MAX_DEPTH}" in text
    assert len(text.splitlines()) == 1


@pytest.mark.parametrize(("load", "error"), LOADERS, ids=LOADER_IDS)
@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("months = 1\nmonths = 2\n", "months: defined twice (line 2)"),
        ("[groups]\np_member = 0.1\np_member = 0.2\n", "groups.p_member: defined twice (line 3)"),
        (
            '[parameters."groups.p_member"]\nlow = 0.1\nlow = 0.2',
            'parameters."groups.p_member".low: defined twice (line 3)',
        ),
        ("[groups]\n[groups]\n", "[groups]: table declared twice"),
        ("x = {a = 1, a = 2}\n", "x.a: defined twice (line 1)"),
    ],
    ids=["top level", "in a table", "at the end", "table", "inline"],
)
def test_a_key_defined_twice_is_named(tmp_path, load, error, text, key):
    path = write(tmp_path / "twice.toml", text)
    assert message(load, error, path).startswith(f"{path}: {key}")


def test_errors_in_an_extends_target_name_the_referring_file_the_key_and_the_target(tmp_path):
    write(tmp_path / "parent.toml", "[groups]\np_member = 2.0\nbogus = 1\n")
    child = write(tmp_path / "child.toml", 'extends = "parent.toml"\n')
    lines = message(load_scenario, ScenarioError, child).splitlines()
    prefix = f"{child}: extends = parent.toml: {tmp_path / 'parent.toml'}: "
    assert [line.removeprefix(prefix) for line in lines] == [
        "groups.p_member: must be <= 1.0 (got 2.0)",
        "groups.bogus: unknown key; allowed here: " + ", ".join(Groups.model_fields),
    ]
    write(tmp_path / "parent.toml", "months = = 3\n")
    assert message(load_scenario, ScenarioError, child).startswith(f"{prefix}not valid TOML")


def test_an_error_two_files_up_names_the_whole_chain(tmp_path):
    write(tmp_path / "a.toml", "months = 0\n")
    write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    c = write(tmp_path / "c.toml", 'extends = "b.toml"\n')
    text = message(load_scenario, ScenarioError, c)
    assert text == (
        f"{c}: extends = b.toml: {tmp_path / 'b.toml'}: extends = a.toml: {tmp_path / 'a.toml'}: "
        "months: must be >= 1 (got 0)"
    )


def test_extends_to_a_symlink_loop(tmp_path):
    (tmp_path / "loop.toml").symlink_to(tmp_path / "loop.toml")
    child = write(tmp_path / "child.toml", 'extends = "loop.toml"\n')
    text = message(load_scenario, ScenarioError, child)
    assert text.startswith(f"{child}: extends = loop.toml: cannot read: ") and LOOP in text.lower()


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("/dev/zero", "not a regular file"),
        ("/dev/null", "not a regular file"),
        (".", "is a directory"),
        ("sub", "is a directory"),
    ],
)
def test_extends_to_a_device_or_a_directory_is_refused_before_reading(tmp_path, target, says):
    (tmp_path / "sub").mkdir()
    child = write(tmp_path / "child.toml", f'extends = "{target}"\n')
    text = message(load_scenario, ScenarioError, child)
    assert text.startswith(f"{child}: extends = {target}: ") and says in text


@pytest.mark.parametrize("target", ['""', '"  "', "3", "[]"])
def test_extends_that_names_no_file(tmp_path, target):
    child = write(tmp_path / "child.toml", f"extends = {target}\n")
    text = message(load_scenario, ScenarioError, child)
    assert text.startswith(f"{child}: extends = ") and "must name a scenario file" in text


def test_extends_to_a_fifo_does_not_hang(tmp_path):
    os.mkfifo(tmp_path / "pipe.toml")
    child = write(tmp_path / "child.toml", 'extends = "pipe.toml"\n')
    assert "not a regular file" in message(load_scenario, ScenarioError, child)


def test_a_long_extends_chain_is_refused(tmp_path):
    for i in range(40):
        write(tmp_path / f"s{i}.toml", f'extends = "s{i + 1}.toml"\n' if i < 39 else "months = 3\n")
    text = message(load_scenario, ScenarioError, tmp_path / "s0.toml")
    assert "too many files in the extends chain" in text and len(text.splitlines()) == 1


@pytest.mark.parametrize(("load", "error"), LOADERS, ids=LOADER_IDS)
def test_a_fifo_device_or_directory_named_directly_is_refused(tmp_path, load, error):
    os.mkfifo(tmp_path / "pipe.toml")
    assert message(load, error, tmp_path / "pipe.toml") == f"{tmp_path / 'pipe.toml'}: " + (
        "not a regular file (a device, pipe or socket); give a TOML file"
    )
    assert message(load, error, "/dev/zero").startswith("/dev/zero: not a regular file")
    assert message(load, error, tmp_path) == f"{tmp_path}: is a directory, not a file"
    (tmp_path / "loop.toml").symlink_to(tmp_path / "loop.toml")
    assert LOOP in message(load, error, tmp_path / "loop.toml").lower()


@pytest.mark.parametrize(("load", "error"), LOADERS, ids=LOADER_IDS)
def test_a_huge_file_is_refused_before_it_is_read(tmp_path, load, error):
    path = tmp_path / "huge.toml"
    path.write_bytes(b"# " + b"x" * tomlfiles.MAX_BYTES + b"\n")
    assert message(load, error, path) == (
        f"{path}: too large ({path.stat().st_size:,} bytes; a TOML file here may have at most 1,048,576 bytes)"
    )


@pytest.mark.parametrize(("load", "error"), LOADERS, ids=LOADER_IDS)
def test_an_empty_or_odd_name_is_one_line(tmp_path, load, error):
    for name in ("", "a\nb", "x\x00y"):
        text = message(load, error, name)
        assert len(text.splitlines()) == 1 and text.startswith(repr(name))


def test_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    assert message(load_scenario, ScenarioError, path) == f"{path}: cannot read: not UTF-8 text (byte 11)"


@pytest.mark.parametrize(
    ("scenario", "says"),
    [("pipe.toml", "not a regular file"), ("sub", "is a directory"), ("/dev/zero", "not a regular")],
)
def test_an_experiments_scenario_that_is_no_regular_file_names_the_experiment(tmp_path, scenario, says):
    os.mkfifo(tmp_path / "pipe.toml")
    (tmp_path / "sub").mkdir()
    text = f'scenario = "{scenario}"\n[design]\nkind = "grid"\n[parameters."groups.p_member"]\nvalues = [0.1]\n'
    path = write(tmp_path / "e.toml", text)
    text = message(load_experiment, ExperimentError, path)
    assert text.startswith(f"{path}: scenario / set: ") and says in text


@pytest.mark.parametrize(("load", "error"), LOADERS, ids=LOADER_IDS)
@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('["a\\nb"' + ".k" * 40 + "]\nk = 1\n", "'a\\nb'.k.k"),
        ('"a\u0085b" = 1\n"a\u0085b" = 2\n', "'\"a\\x85b\"': defined twice (line 2)"),  # the key as written
        ('[g]\n"\u2028" = 1\n"\u2028" = 2\n', "g.'\"\\u2028\"': defined twice (line 3)"),
    ],
    ids=["deep", "next line", "line separator"],
)
def test_keys_that_are_not_printable_are_quoted_on_one_line(tmp_path, load, error, text, key):
    path = write(tmp_path / "odd.toml", text)
    text = message(load, error, path)
    assert text.startswith(f"{path}: {key}") and len(text.split("\n")) == 1 and text.isprintable()


def test_an_experiments_scenario_is_found_next_to_it_not_in_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "exp").mkdir()
    (tmp_path / "cwd").mkdir()
    write(tmp_path / "cwd" / "mine.toml", "months = 3\n")
    monkeypatch.chdir(tmp_path / "cwd")
    text = 'scenario = "mine.toml"\n[design]\nkind = "grid"\n[parameters."groups.p_member"]\nvalues = [0.1]\n'
    path = write(tmp_path / "exp" / "e.toml", text)
    assert message(load_experiment, ExperimentError, path).startswith(
        f"{path}: scenario / set: {tmp_path / 'exp' / 'mine.toml'}: no such scenario file (shipped: "
    )
    write(tmp_path / "exp" / "mine.toml", "months = 4\n")  # next to the experiment: found
    assert load_experiment(path).base.months == 4
    write(path, text.replace("mine.toml", "donor_exit"))  # a bare name: the shipped scenario
    assert load_experiment(path).base.name == "donor_exit"
