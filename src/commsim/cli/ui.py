"""`commsim ui`: start the browser app (`commsim.ui.app`) with Solara's server and print its address.

The server binds to loopback unless told otherwise, and is started so that it never reaches out: its front-end
files come from the `solara-assets` package installed with commsim, Solara's usage telemetry is off and it does
not check PyPI for a newer version. The database the app reads and writes (`--db`) is passed on as COMMSIM_DB.
Beyond loopback the server answers only requests that bring the session's token (`commsim.ui.serve`), and the
link printed carries it.

The server runs in its own process group and dies with `commsim ui`: SIGTERM, SIGINT and SIGHUP are passed on to
the group (then SIGKILL if it has not stopped in STOP_TIMEOUT_S), and on Linux the kernel sends it SIGTERM if
`commsim ui` itself dies, even by SIGKILL.
"""

import contextlib
import ctypes
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from commsim.cli.common import DB_HELP, bad_input_exits, compile_first, stderr, stdout
from commsim.errors import CommsimError
from commsim.ui.serve import TOKEN_ENV, TOKEN_QUERY, new_token

SERVER_MODULE = "commsim.ui.serve"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOP_TIMEOUT_S = 10.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h
DEFAULT_PORT = 8765
ASSET = "@widgetti/solara-vuetify-app@*"  # the front end solara's page loads first


def server_command(host: str, port: int) -> list[str]:
    """The command line that serves the app: `solara run commsim.ui.app` through `commsim.ui.serve` (which adds
    the token check)."""
    return [
        sys.executable,
        "-m",
        SERVER_MODULE,
        "--host",
        host,
        "--port",
        str(port),
        "--no-open",
        "--production",
        "--no-check-version",
        "--log-level-uvicorn",
        "warning",
    ]


def server_env(db: str | None, base: dict[str, str] | None = None, token: str | None = None) -> dict[str, str]:
    """The server's environment: no telemetry, the database (if given) and the token it must check (if any)."""
    env = dict(os.environ if base is None else base)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    env.pop(TOKEN_ENV, None)
    if db is not None:
        env["COMMSIM_DB"] = db
    if token is not None:
        env[TOKEN_ENV] = token
    return env


def needs_token(host: str) -> bool:
    """Whether listening on `host` reaches beyond this computer (anything but a loopback address)."""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any address
        return True


def die_with_parent(parent: int) -> Callable[[], None]:
    """What the server's process runs before it starts: on Linux, ask the kernel for SIGTERM when `parent` dies
    (PR_SET_PDEATHSIG), and give up at once if it already has."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None

    def prepare() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)

    return prepare


def signal_group(group: int, signum: int) -> None:
    """Send `signum` to a process group that may be gone already."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signum)


def run_server(command: list[str], env: dict[str, str]) -> tuple[int, int | None]:
    """Run the server in its own process group until it ends; a stop signal to this process is passed on to the
    group, which gets SIGKILL if it is still there STOP_TIMEOUT_S later. Returns its exit code and the stop signal
    received (None if it ended by itself); whatever is left of its group is sent SIGTERM."""
    process = subprocess.Popen(command, env=env, process_group=0, preexec_fn=die_with_parent(os.getpid()))
    received: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        signal_group(process.pid, signum)

    previous = {signum: signal.signal(signum, forward) for signum in STOP_SIGNALS}
    try:
        deadline = None
        while True:
            try:
                code = process.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if received and deadline is None:
                    deadline = time.monotonic() + STOP_TIMEOUT_S
                if deadline is not None and time.monotonic() > deadline:
                    signal_group(process.pid, signal.SIGKILL)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        signal_group(process.pid, signal.SIGTERM)  # the app's own workers, if any outlived it
    return code, (received[0] if received else None)


def assets_dir() -> Path:
    """Where solara serves front-end files from (filled by the solara-assets package): share/solara/cdn under
    the prefix solara is installed in, as solara's own settings find it."""
    import site
    from importlib.util import find_spec

    spec = find_spec("solara")
    origin = spec.origin if spec is not None and spec.origin else ""
    user = site.getuserbase()
    prefix = user if user and origin.startswith(user) else sys.prefix
    return Path(prefix) / "share" / "solara" / "cdn"


def check_assets() -> None:
    """Refuse to start without the offline front-end files: the page would stay blank without internet."""
    if not any(path.is_dir() for path in assets_dir().glob(ASSET)):
        raise CommsimError(
            f"the browser app's front-end files are not installed (nothing like {assets_dir() / ASSET}): "
            "install them with `pip install solara-assets` (commsim's dependencies include it)"
        )


def check_port(host: str, port: int) -> None:
    """A clear message instead of a server that dies on start: the port must be free on that host."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            reason = "in use" if error.errno in (98, 48, 10048) else (error.strerror or str(error))
            raise CommsimError(
                f"--host {host} --port {port}: cannot listen there ({reason}); try --port {port + 1}"
            ) from None


def check_db(db: str | None) -> None:
    """A --db that is not a database URL is refused before the server starts (the pages would only say so); the
    message hides its password, as the store's own does."""
    if db is None:
        return
    from commsim.store.database import StoreError, parse_url

    try:
        parse_url(db)
    except StoreError as error:
        raise CommsimError("--db " + str(error).removeprefix("database ")) from None


def address(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def shipped_sizes() -> set[int]:
    """The district sizes of the shipped scenarios, which the app's pages start from."""
    from commsim.scenario import loader

    return {loader.load_scenario(path).population.households for path in loader.shipped_scenarios()}


def ui(
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on (default: this computer only; 0.0.0.0: every network, token in the link).",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535, help="Port to listen on.")] = DEFAULT_PORT,
    db: Annotated[str | None, typer.Option("--db", metavar="URL", help=DB_HELP)] = None,
) -> None:
    """Start the browser app: a live district with levers for trainers, scenario comparison and stored sweeps for
    planners. Works without internet; prints the address to open. Ctrl-C stops it."""
    with bad_input_exits():
        check_assets()
        check_db(db)
        check_port(host, port)
    compile_first("numba", *shipped_sizes())  # before the server starts, so its first live district does not wait
    token = new_token() if needs_token(host) else None
    url = address(host, port) + (f"?{TOKEN_QUERY}={token}" if token else "")
    stdout().print(Text.assemble("commsim ui at ", (url, "bold"), " (Ctrl-C stops it)"), soft_wrap=True)
    if token:
        stderr().print(
            f"note: listening on {host}: other computers on your network can open this app with the link above "
            "(it carries this session's token; without it the app answers 403)",
            style="yellow",
            soft_wrap=True,
        )
    code, stopped_by = run_server(server_command(host, port), server_env(db, token=token))
    if stopped_by is not None:
        stderr().print("stopped", style="yellow")
        raise typer.Exit(128 + stopped_by)
    if code != 0:
        stderr().print(f"error: the app's server stopped with exit code {code}", style="red")
        raise typer.Exit(code)
