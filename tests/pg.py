"""A throwaway PostgreSQL server for the test session (the `pg_server` fixture in conftest.py starts one).

Debian's server binaries live in /usr/lib/postgresql/<major>/bin and refuse to run as root, so as root they run
as the `postgres` user (`runuser`), in a temporary directory that user owns. The server trusts local
connections, listens on 127.0.0.1 at a free port and keeps its socket in that directory; fsync is off, as
nothing has to survive the session.
"""

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

INSTALL_HINT = "install it with `apt-get install -y postgresql` (Debian/Ubuntu), as .ci/run does"
USER = "postgres"  # the OS user that runs the server as root, and the database superuser


class PostgresUnavailable(RuntimeError):
    """The server binaries are missing or the server would not start."""


def find_bindir() -> Path:
    """The newest /usr/lib/postgresql/<major>/bin holding initdb and pg_ctl."""
    found = [
        path
        for path in Path("/usr/lib/postgresql").glob("*/bin")
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file()
    ]
    if not found:
        raise PostgresUnavailable(
            f"no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql: {INSTALL_HINT}"
        )
    return max(found, key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else -1)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    bindir: Path
    root: Path  # data/, the socket and the log
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        name = f"commsim_test_{secrets.token_hex(6)}"
        self._admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # FORCE: ends sessions left open

    def databases(self) -> set[str]:
        engine = sa.create_engine(self.url(), poolclass=sa.NullPool)
        try:
            with engine.connect() as connection:
                return set(connection.execute(sa.text("SELECT datname FROM pg_database")).scalars())
        finally:
            engine.dispose()

    def _admin(self, statement: str) -> None:
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(sa.text(statement))
        finally:
            engine.dispose()

    def stop(self) -> None:
        """Stop the server (immediately: its data is thrown away) and remove its directory."""
        try:
            if (self.data / "postmaster.pid").exists():
                _run([self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"], timeout=30)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _as_postgres(args: list[str | Path]) -> list[str]:
    command = [str(arg) for arg in args]
    if os.geteuid() == 0:
        return ["runuser", "-u", USER, "--", *command]
    return command


def _run(args: list[str | Path], timeout: float) -> None:
    result = subprocess.run(_as_postgres(args), capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        name = Path(str(args[0])).name
        raise PostgresUnavailable(f"{name} failed ({result.returncode}): {(result.stderr or result.stdout).strip()}")


def start_server(attempts: int = 3) -> PostgresServer:
    """initdb a fresh cluster in a temporary directory and start it on a free port (retried if the port is
    taken in between). Raises PostgresUnavailable with the reason; leaves nothing behind on failure."""
    bindir = find_bindir()
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(USER)
        except KeyError:
            raise PostgresUnavailable(f"running as root but there is no `{USER}` user: {INSTALL_HINT}") from None
    root = Path(tempfile.mkdtemp(prefix="commsim-pg-"))
    server = PostgresServer(bindir, root, 0)
    try:
        if os.geteuid() == 0:
            os.chown(root, owner.pw_uid, owner.pw_gid)
        initdb = [bindir / "initdb", "-D", server.data, "-A", "trust", "-U", USER, "-E", "UTF8", "--locale=C", "-N"]
        _run(initdb, timeout=60)
        for attempt in range(1, attempts + 1):
            server.port = free_port()
            options = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
            start = [bindir / "pg_ctl", "-D", server.data, "-o", options, "-l", server.log, "-w", "-t", "30", "start"]
            try:
                _run(start, timeout=60)
            except PostgresUnavailable as error:
                log = server.log.read_text(errors="replace") if server.log.exists() else ""
                if attempt < attempts and "in use" in log:  # someone took the port in between: another one
                    continue
                raise PostgresUnavailable(f"{error}\nserver log:\n{log[-2000:]}") from None
            return server
        raise PostgresUnavailable(f"no free port in {attempts} attempts")
    except BaseException:
        server.stop()
        raise
