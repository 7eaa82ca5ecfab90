"""`commsim ui` as a user starts it, a real process with its real Solara server: the token it requires when it
listens beyond loopback (real HTTP and websocket requests, sent to 127.0.0.1 only), no token on loopback, and the
server dying with it (SIGTERM; SIGKILL of `commsim ui` itself)."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real `commsim ui` servers started and stopped

START_TIMEOUT_S = 90
GONE_TIMEOUT_S = 20  # a stopped server goes within this (commsim ui gives it 10 s before SIGKILL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def alive(pid: int) -> bool:
    """Whether the process exists and has not exited (a zombie has)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def children(pid: int) -> list[int]:
    """The live processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition, timeout: float) -> float:
    """Seconds until `condition()` held; AssertionError after `timeout`."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"still not so after {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - began


@dataclass
class Ui:
    process: subprocess.Popen
    port: int
    server: int  # the pid of the Solara server it started
    out: Path
    err: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def link(self) -> str:
        """The link `commsim ui` printed."""
        line = next(line for line in self.out.read_text().splitlines() if line.startswith("commsim ui at "))
        return line.removeprefix("commsim ui at ").split()[0]


def start_ui(workdir: Path, *options: str) -> Ui:
    """`commsim ui` in a process of its own, once its server answers on 127.0.0.1."""
    port = free_port()
    out, err = workdir / "ui.out", workdir / "ui.err"
    command = [sys.executable, "-m", "commsim", "ui", "--port", str(port), "--db", f"sqlite:///{workdir / 'ui.db'}"]
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen([*command, *options], stdout=stdout, stderr=stderr, cwd=workdir)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"commsim ui did not start:\n{out.read_text()}\n{err.read_text()[-3000:]}", pytrace=False)
        time.sleep(0.2)
    (server,) = children(process.pid)
    return Ui(process, port, server, out, err)


@pytest.fixture
def ui_process(tmp_path) -> Iterator:
    """Starts `commsim ui`; whatever is left of it and its server is killed at the end (by pid)."""
    started: list[Ui] = []

    def start(*options: str) -> Ui:
        started.append(start_ui(tmp_path, *options))
        return started[-1]

    yield start
    for ui in started:
        for pid in (ui.process.pid, ui.server):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        ui.process.wait(timeout=10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url: str, cookie: str | None = None) -> tuple[int, dict[str, str], str]:
    """Status, headers and body of a GET, redirects not followed."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode(errors="replace")


@contextmanager
def websocket(port: int, path: str, cookie: str | None = None) -> Iterator[int]:
    """A websocket handshake as a browser opens the app's kernel channel; yields the answer's status code (101:
    accepted) while the connection stays open."""
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        *([f"Cookie: {cookie}"] if cookie else []),
    ]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        yield int(connection.recv(4096).split(b" ", 2)[1])


def websocket_status(port: int, path: str, cookie: str | None = None) -> int:
    with websocket(port, path, cookie) as status:
        return status


CHANNEL = "/jupyter/api/kernels/{}/channels?session_id=test"


def test_beyond_loopback_every_request_needs_the_token(ui_process):
    from commsim.ui.serve import REFUSED, cookie_name

    ui = ui_process("--host", "0.0.0.0")
    link = ui.link()
    assert link.startswith(f"http://0.0.0.0:{ui.port}/?token=")
    token = link.partition("?token=")[2]
    assert len(token) >= 32
    for path in ("", "compare", "_solara/static/main-vuetify.js", "readyz", f"?token={token[:-1]}x"):
        status, _, body = get(ui.base + path)
        assert (status, body) == (403, REFUSED), path
    assert websocket_status(ui.port, CHANNEL.format("k1")) == 403

    status, headers, _ = get(ui.base + f"compare?token={token}&x=1")
    assert status == 303 and headers["location"] == "/compare?x=1"  # the address bar loses the token
    cookie = headers["set-cookie"].split(";")[0]
    assert cookie == f"{cookie_name(token)}={token}" and "HttpOnly" in headers["set-cookie"]
    status, _, body = get(ui.base, cookie)
    assert status == 200 and "solara" in body
    assert websocket_status(ui.port, CHANNEL.format("k2"), cookie) == 101
    assert "without it the app answers 403" in ui.err.read_text()


def test_on_loopback_no_token_is_needed(ui_process):
    ui = ui_process()
    assert ui.link() == f"http://127.0.0.1:{ui.port}/"
    status, _, body = get(ui.base)
    assert status == 200 and "solara" in body
    assert websocket_status(ui.port, CHANNEL.format("k3")) == 101


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_stops_the_server_and_frees_the_port(ui_process, signum):
    ui = ui_process()
    os.kill(ui.process.pid, signum)
    assert ui.process.wait(timeout=GONE_TIMEOUT_S) == 128 + signum
    assert not alive(ui.server) and not listening(ui.port)
    assert "stopped" in ui.err.read_text()


def test_the_server_dies_when_commsim_ui_is_killed(ui_process):
    """SIGKILL cannot be passed on: the kernel tells the server its parent died (PR_SET_PDEATHSIG)."""
    ui = ui_process()
    with websocket(ui.port, CHANNEL.format("k4")) as status:  # a browser still connected
        assert status == 101
        os.kill(ui.process.pid, signal.SIGKILL)
        ui.process.wait(timeout=10)
        took = wait_until(lambda: not alive(ui.server), GONE_TIMEOUT_S)
    assert took < GONE_TIMEOUT_S and not listening(ui.port)
