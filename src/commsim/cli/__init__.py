"""The `commsim` command line (Typer and Rich)."""
