"""`commsim validate`: the stylised facts of the evidence summary as behaviour of the model, and the published
numbers it should reproduce."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from commsim import outfiles
from commsim.cli.common import bad_input_exits, default_out_dir, stderr, stdout
from commsim.outfiles import OVERWRITE_HELP


def verdict(passed: bool) -> Text:
    """pass or FAIL, coloured."""
    return Text("pass", style="green") if passed else Text("FAIL", style="bold red")


def validate(
    quick: Annotated[
        bool, typer.Option("--quick", help="3 seeds per arm instead of 10 (what the tests run; about 2 min).")
    ] = False,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="HTML page (default: results/validate-<date>-<time>.html).")
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
) -> None:
    """Run every stylised fact the model addresses and print fact, source, what the model produced, the accepted
    range and pass/fail; then every published number the model can produce, with its source, the accepted range
    and why, and the model's value with its standard error. Write the same as an HTML page with a plot per fact.
    Exit code 1 if a fact or a published number fails."""
    with bad_input_exits():
        from commsim.evidence import facts, published
        from commsim.reports.validation import write_validation

        seeds = facts.QUICK_SEEDS if quick else facts.FULL_SEEDS
        target = out_file if out_file is not None else default_out_dir("validate").with_suffix(".html")
        outfiles.check_file(target, overwrite=overwrite)  # before the runs, not after them
        caption = f"{'quick' if quick else 'full'} mode: seeds {seeds[0]}-{seeds[-1]} per arm"
        table = Table(title="Stylised facts", caption=caption)
        for name in ("#", "fact", "source", "the model", "accepted", "result"):
            table.add_column(name, overflow="fold")

        def show(result: facts.FactResult) -> None:
            if stderr().is_terminal:
                stderr().print(f"fact {result.number}: {'pass' if result.passed else 'FAIL'}", style="dim")
            table.add_row(
                str(result.number),
                result.title,
                result.source,
                result.measured,
                result.accepted,
                verdict(result.passed),
            )

        results = facts.validate(quick=quick, on_fact=show)
        if stderr().is_terminal:
            stderr().print("published numbers: running the baseline and the CHW scale-up", style="dim")
        numbers = published.validate(seeds)
        page = write_validation(results, numbers, target, quick=quick, seeds=seeds)
    numbers_table = Table(title="Published numbers", caption=f"{caption}; ± one standard error")
    for name in ("#", "quantity", "published", "source", "accepted (why)", "the model", "result"):
        numbers_table.add_column(name, overflow="fold")
    for number in numbers:
        claim = number.check
        numbers_table.add_row(
            f"P{number.number}",
            claim.quantity,
            claim.published,
            claim.source,
            f"{claim.accepted} ({claim.why})",
            number.measured,
            verdict(number.passed),
        )
    stdout().print(table)
    stdout().print(numbers_table)
    failed = [r for r in results if not r.passed]
    for result in failed:
        for check in result.checks:
            if not check.passed:
                stdout().print(f"fact {result.number} failed: {check.requirement}", style="red", soft_wrap=True)
    missed = [n for n in numbers if not n.passed]
    for number in missed:
        claim = number.check
        message = f"P{number.number} failed: {claim.quantity}: the model {number.measured}, accepted {claim.accepted}"
        stdout().print(message, style="red", soft_wrap=True)
    stdout().print(
        f"{len(results) - len(failed)} of {len(results)} facts reproduced, {len(numbers) - len(missed)} of "
        f"{len(numbers)} published numbers; page {page}",
        soft_wrap=True,
    )
    if failed or missed:
        raise typer.Exit(1)
