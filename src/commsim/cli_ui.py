"""`commsim ui`: start the browser app (`commsim.ui.app`) with Solara's server and print its address.

The server binds to loopback unless told otherwise, and is started so that it never reaches out: its front-end
files come from the `solara-assets` package installed with commsim, Solara's usage telemetry is off and it does
not check PyPI for a newer version. The database the app reads and writes (`--db`) is passed on as COMMSIM_DB.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from commsim.cli_common import DB_HELP, bad_input_exits, err, out
from commsim.errors import CommsimError

APP_MODULE = "commsim.ui.app"
DEFAULT_PORT = 8765
LOOPBACK = ("127.0.0.1", "localhost", "::1")
ASSET = "@widgetti/solara-vuetify-app@*"  # the front end solara's page loads first


def server_command(host: str, port: int) -> list[str]:
    """The `solara run` command line that serves the app."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        APP_MODULE,
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


def server_env(db: str | None, base: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: no telemetry, and the database (if given)."""
    env = dict(os.environ if base is None else base)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    if db is not None:
        env["COMMSIM_DB"] = db
    return env


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
    from commsim.store import StoreError, _parse

    try:
        _parse(db)
    except StoreError as error:
        raise CommsimError("--db " + str(error).removeprefix("database ")) from None


def address(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def ui(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (default: this computer only; 0.0.0.0: every network).")
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
    url = address(host, port)
    out.print(Text.assemble("commsim ui at ", (url, "bold"), " (Ctrl-C stops it)"), soft_wrap=True)
    if host not in LOOPBACK:
        err.print(f"note: listening on {host}: other computers on your network can open this app", style="yellow")
    process = subprocess.Popen(server_command(host, port), env=server_env(db))
    try:
        code = process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        err.print("stopped", style="yellow")
        raise typer.Exit(130) from None
    if code != 0:
        err.print(f"error: the app's server stopped with exit code {code}", style="red")
        raise typer.Exit(code)
