"""`commsim validate`: the stylised facts of the evidence summary as behaviour of the model."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from commsim import outfiles
from commsim.cli.common import bad_input_exits, default_out_dir, stderr, stdout
from commsim.outfiles import OVERWRITE_HELP


def validate(
    quick: Annotated[bool, typer.Option("--quick", help="3 seeds per arm instead of 10 (what the tests run).")] = False,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="HTML page (default: results/validate-<date>-<time>.html).")
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
) -> None:
    """Run every stylised fact the model addresses and print fact, source, what the model produced, the accepted
    range and pass/fail; write the same as an HTML page with a plot per fact. Exit code 1 if a fact fails."""
    with bad_input_exits():
        from commsim.evidence import facts
        from commsim.reports.validation import write_validation

        seeds = facts.QUICK_SEEDS if quick else facts.FULL_SEEDS
        target = out_file if out_file is not None else default_out_dir("validate").with_suffix(".html")
        outfiles.check_file(target, overwrite=overwrite)  # before the runs, not after them
        table = Table(caption=f"{'quick' if quick else 'full'} mode: seeds {seeds[0]}-{seeds[-1]} per arm")
        for name in ("#", "fact", "source", "the model", "accepted", "result"):
            table.add_column(name, overflow="fold")

        def show(result: facts.FactResult) -> None:
            if stderr().is_terminal:
                stderr().print(f"fact {result.number}: {'pass' if result.passed else 'FAIL'}", style="dim")
            verdict = Text("pass", style="green") if result.passed else Text("FAIL", style="bold red")
            table.add_row(str(result.number), result.title, result.source, result.measured, result.accepted, verdict)

        results = facts.validate(quick=quick, on_fact=show)
        page = write_validation(results, target, quick=quick, seeds=seeds)
    stdout().print(table)
    failed = [r for r in results if not r.passed]
    for result in failed:
        for check in result.checks:
            if not check.passed:
                stdout().print(f"fact {result.number} failed: {check.requirement}", style="red", soft_wrap=True)
    stdout().print(f"{len(results) - len(failed)} of {len(results)} facts reproduced; page {page}", soft_wrap=True)
    if failed:
        raise typer.Exit(1)
