"""`python -m commsim`: the same as the `commsim` command."""

from commsim.cli.app import app

app(prog_name="commsim")
