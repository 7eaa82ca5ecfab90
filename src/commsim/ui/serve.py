"""The app's server process, as `commsim ui` starts it: `python -m commsim.ui.serve OPTIONS` is Solara's own
`solara run commsim.ui.app OPTIONS`, behind a token check when `commsim ui` hands it a token.

Listening beyond this computer, anyone on the network could open the app: `commsim ui` then generates a token,
passes it in the environment (COMMSIM_UI_TOKEN, not on the command line where other users could read it) and prints
the link that carries it. Every request, page or websocket, must bring the token: in the link (`?token=...`; the
page is then sent again without it in the address, which a projector would show the room, and a cookie carries it
from there) or in that cookie. Anything else gets 403.
"""

import hashlib
import os
import secrets
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

APP_MODULE = "commsim.ui.app"
TOKEN_ENV = "COMMSIM_UI_TOKEN"
TOKEN_QUERY = "token"
REFUSED = "commsim ui: open the link with its token, as printed where `commsim ui` was started.\n"

Scope = MutableMapping[str, Any]
Asgi = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


def new_token() -> str:
    """A token for one `commsim ui` session."""
    return secrets.token_urlsafe(24)


def cookie_name(token: str) -> str:
    """The cookie that carries the token; named after it, so two apps on one host do not overwrite each other's."""
    return "commsim_ui_" + hashlib.sha256(token.encode()).hexdigest()[:12]


def guarded(app: Asgi, token: str) -> Asgi:
    """`app` that answers only requests bringing `token` (in the query or the cookie); 403 for the rest."""
    from starlette.requests import HTTPConnection
    from starlette.responses import PlainTextResponse, RedirectResponse
    from starlette.websockets import WebSocket

    cookie = cookie_name(token)

    def matches(given: str | None) -> bool:
        return given is not None and secrets.compare_digest(given.encode(), token.encode())

    async def guard(scope: Scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan: the server starting and stopping
            await app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        in_link = matches(connection.query_params.get(TOKEN_QUERY))
        if in_link and scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            rest = connection.url.remove_query_params(TOKEN_QUERY)
            response = RedirectResponse(rest.path + (f"?{rest.query}" if rest.query else ""), status_code=303)
            response.set_cookie(cookie, token, httponly=True, samesite="lax", path="/")
            await response(scope, receive, send)
        elif in_link or matches(connection.cookies.get(cookie)):
            await app(scope, receive, send)
        elif scope["type"] == "websocket":
            await WebSocket(scope, receive, send).close(code=1008)  # before accepting: the server answers 403
        else:
            await PlainTextResponse(REFUSED, status_code=403)(scope, receive, send)

    return guard


def main() -> None:
    """`solara run` the app with this process's options; behind the token check if COMMSIM_UI_TOKEN is set."""
    token = os.environ.pop(TOKEN_ENV, "")  # not inherited by the workers the app starts
    os.environ["SOLARA_APP"] = APP_MODULE  # as `solara run` sets it: solara's server reads it when first imported
    if token:
        import solara.server.starlette as served

        served.app = guarded(served.app, token)  # uvicorn looks the app up by this name when it starts
    from solara.__main__ import main as solara_main

    sys.argv = ["solara", "run", APP_MODULE, *sys.argv[1:]]
    solara_main()


if __name__ == "__main__":
    main()
