"""The live page: a trainer's district in the browser. Pick a scenario, move the levers, step or play month by
month, and watch the map and the charts.

Changing the scenario, a lever, the households or the seed builds the district again at month 0 (the model's
parameters are fixed for a run); the run it replaces stays on the mCPR chart, dashed, for comparison. A value the
page cannot use leaves the current run as it is and says why. Only `LiveRun` touches the model.
"""

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from html import escape
from typing import Any

import solara

from commsim.errors import CommsimError
from commsim.results.formats import format_output, output_label
from commsim.scenario.loader import ScenarioError, load_scenario
from commsim.ui import levers
from commsim.ui.scenarios import offered_file, scenario_names
from commsim.ui.session import CHARTS, LiveRun
from commsim.ui.widgets import SMALL, CommitSlider, Message, note, number_field

logger = logging.getLogger(__name__)
SPEEDS: dict[str, float] = {"slow: 1 month a second": 1.0, "normal: 4 a second": 0.25, "fast: 10 a second": 0.1}
DEFAULT_SPEED = "normal: 4 a second"
DEFAULT_SCENARIO = "hrh2030_groups"


@dataclass(frozen=True)
class Settings:
    """What the page asks for: a shipped scenario, the lever values, and the households and seed as typed."""

    scenario: str
    values: Mapping[str, float] = field(default_factory=dict)
    households: str = ""
    seed: str = ""


def initial_settings(name: str) -> Settings:
    """A scenario's own values: levers, households and seed (LeverError unless the pages offer it)."""
    base = load_scenario(offered_file(name))
    return Settings(name, levers.defaults(base), str(base.population.households), str(base.seed))


def build(settings: Settings, previous: tuple[str, list[float]] | None = None) -> LiveRun:
    """The LiveRun the settings ask for; LeverError or ScenarioError (naming the field) if they cannot be used."""
    base = load_scenario(offered_file(settings.scenario))
    households = levers.parse_households(settings.households)
    seed = levers.parse_seed(settings.seed)
    keys: dict[str, Any] = levers.overrides(base, settings.values)
    if households != base.population.households:
        if base.population.district is not None:
            raise levers.LeverError(
                f"households: set by the district's files ({base.population.households:,} households in "
                f"{base.population.district}); it cannot be changed here"
            )
        keys["population.households"] = households
    if seed != base.seed:
        keys["seed"] = seed
    config = load_scenario(base, keys)
    return LiveRun(config, label=settings.scenario, settings=keys, previous=previous)


def command(run: LiveRun) -> str:
    return levers.command_line(run.label, run.settings)


@solara.component
def LivePage():
    names = solara.use_memo(scenario_names, [])
    first = DEFAULT_SCENARIO if DEFAULT_SCENARIO in names else names[0]
    settings = solara.use_reactive(solara.use_memo(lambda: initial_settings(first), []))
    run = solara.use_reactive(solara.use_memo(lambda: build(settings.value), []))
    message = solara.use_reactive(None)  # (field, text) of the last input the page could not use
    playing = solara.use_reactive(False)
    tick = solara.use_reactive(0)
    speed = solara.use_reactive(DEFAULT_SPEED)

    def rebuild(new: Settings, bad_field: str = "") -> None:
        """Build the district the new settings ask for, or keep the current run and say what is wrong."""
        playing.set(False)
        current = run.value
        try:
            fresh = build(new, previous=("before", list(current.history["mcpr"])))
        except (levers.LeverError, ScenarioError, CommsimError) as error:
            settings.set(new)
            message.set((bad_field, str(error)))
            return
        except Exception as error:  # a bug must not take the room's page down: say so, keep the current run
            logger.exception("building the district failed")
            settings.set(new)
            message.set((bad_field, f"could not build the district: {type(error).__name__}: {error}"))
            return
        settings.set(new)
        message.set(None)
        run.set(fresh)
        tick.set(tick.value + 1)

    def choose_scenario(name: str) -> None:
        try:
            new = initial_settings(name)
        except (levers.LeverError, ScenarioError) as error:
            message.set(("scenario", str(error)))
            return
        rebuild(new, "scenario")

    def set_lever(name: str, value: float) -> None:
        rebuild(replace(settings.value, values={**settings.value.values, name: value}), name)

    def advance(current: LiveRun) -> bool:
        """One month; False at the horizon or if the model failed (then the page says so)."""
        try:
            return current.step()
        except Exception as error:
            logger.exception("the model failed")
            message.set(("", f"the model failed in month {current.month + 1}: {type(error).__name__}: {error}"))
            return False

    def step() -> None:
        if advance(run.value):
            tick.set(tick.value + 1)

    def play_loop(cancel: threading.Event) -> None:
        current = run.value
        if not playing.value:
            return
        while not cancel.is_set():
            began = time.perf_counter()
            if not advance(current):
                playing.set(False)
                return
            tick.set(tick.value + 1)  # redraws the views in this thread before the next month
            pause = SPEEDS.get(speed.value, SPEEDS[DEFAULT_SPEED]) - (time.perf_counter() - began)
            if cancel.wait(max(pause, 0.001)):
                return

    solara.use_thread(play_loop, dependencies=[playing.value, run.value], intrusive_cancel=False)

    bad = message.value[0] if message.value else ""
    with solara.Columns([1, 3], classes=["commsim-live"]):
        with solara.Column(gap="6px"):
            solara.Select("Scenario", values=names, value=settings.value.scenario, on_value=choose_scenario)
            note(run.value.scenario.description)
            Fields(settings.value, rebuild, message.value)
            Message(message.value[1] if message.value else None)
            for lever in levers.LEVERS:
                LeverCard(lever, settings.value, set_lever, bad == lever.name)
        with solara.Column(gap="8px"):
            Board(run.value, tick, playing, speed, step, lambda: rebuild(settings.value))
            note("Repeat this run on the command line:")
            solara.Preformatted(command(run.value), class_="commsim-command")


@solara.component
def Board(run: LiveRun, tick, playing, speed, step, reset):
    """Everything that changes each month. Only this component follows the month counter, and hands the month
    to its parts, so a step is one render pass over the parts that changed."""
    tick.get()
    month = run.month
    with solara.Row(gap="28px", style="align-items: flex-start; flex-wrap: wrap"):
        Controls(run, month, playing, speed, step, reset)
        Status(run, month)
    with solara.Columns([5, 4]):
        MapView(run, month)
        Charts(run, month, CHARTS[:2])
    Charts(run, month, CHARTS[2:], wide=True)


@solara.component
def Controls(run: LiveRun, month: int, playing, speed, step, reset):
    """Step, play or pause, reset, and the speed of play; redrawn each month (`month`), as Step and Play are
    disabled at the horizon."""
    at_end = month >= run.horizon
    with solara.Column(gap="4px", style="min-width: 250px; max-width: 320px"):
        with solara.Row(gap="6px"):
            disabled = playing.value or at_end
            solara.Button("Step", on_click=step, disabled=disabled, color="primary", classes=["commsim-step"])
            solara.Button(
                "Pause" if playing.value else "Play",
                on_click=lambda: playing.set(not playing.value),
                disabled=at_end and not playing.value,
                color="primary",
                outlined=True,
                classes=["commsim-play"],
            )
            solara.Button("Reset", on_click=reset, outlined=True, classes=["commsim-reset"])
        solara.Select("Speed", values=list(SPEEDS), value=speed)
        if at_end:
            solara.Info(f"End of the scenario's {run.horizon} months: Reset, or change a lever, to start again.")


@solara.component
def LeverCard(lever: levers.Lever, settings: Settings, set_lever, flagged: bool):
    """A lever's slider, what it does in plain words, and where its default comes from."""
    base = solara.use_memo(lambda: load_scenario(offered_file(settings.scenario)), [settings.scenario])
    own = levers.defaults(base)[lever.name]
    low, high = levers.lever_range(lever, base)
    value = settings.values.get(lever.name, own)
    shown = _lever_text(lever, own, base.months)
    with solara.Card(margin=0, elevation=1 if not flagged else 4, classes=[f"commsim-lever-{lever.name}"]):
        CommitSlider(
            lever.label,
            value,
            lambda v: set_lever(lever.name, v),
            minimum=low,
            maximum=high,
            step=lever.step,
            integer=lever.integer,
            classes=[f"commsim-slider-{lever.name}"],
        )
        now = _lever_text(lever, value, base.months)
        note(f"Now {now}; {settings.scenario} uses {shown}.", SMALL + "; font-weight: 500")
        note(lever.what)
        Evidence(lever.evidence)


def _lever_text(lever: levers.Lever, value: float, horizon: int) -> str:
    if lever.name == "donor_exit":
        return "no donor exit" if value >= horizon else f"exit at month {int(value)}"
    if lever.percent:
        return f"{100 * value:.0f}%"
    return f"{value:g}"


@solara.component
def Fields(settings: Settings, rebuild, message):
    """The households and seed, typed; what households does and where its default comes from."""
    bad, text = message if message else ("", "")
    with solara.Row(gap="8px"):
        number_field(
            "Households",
            settings.households,
            lambda typed: rebuild(replace(settings, households=typed), "households"),
            error=text if bad == "households" else None,
        )
        number_field(
            "Seed",
            settings.seed,
            lambda typed: rebuild(replace(settings, seed=typed), "seed"),
            error=text if bad == "seed" else None,
        )
    note(levers.HOUSEHOLDS_WHAT + " Same scenario and seed: the same district and months on any machine.")
    Evidence(levers.HOUSEHOLDS_EVIDENCE)


@solara.component
def Evidence(paths: tuple[str, ...]):
    """The schema's descriptions of the fields behind a lever: where its default comes from."""
    with solara.Details("Evidence behind the default"):
        items = "".join(f"<li><code>{escape(path)}</code>: {escape(levers.describe(path))}</li>" for path in paths)
        solara.HTML(tag="ul", unsafe_innerHTML=items, style=SMALL + "; padding-left: 1.1em")


@solara.component
def Status(run: LiveRun, month: int):
    latest = run.latest
    items = (
        ("month", f"{month} of {run.horizon}"),
        *((output_label(c), format_output(c, latest[c])) for c in ("mcpr", "users", "new_users", "active_groups")),
        ("cost so far", format_output("cost_cumulative", latest["cost_cumulative"])),
        ("households", f"{run.scenario.population.households:,}"),
    )
    html = "".join(
        f'<div class="commsim-kpi" data-kpi="{name}"><div style="font-size:0.75rem;color:#666">{name}</div>'
        f'<div style="font-size:1.25rem;font-weight:600">{value}</div></div>'
        for name, value in items
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=html,
        classes=["commsim-status"],
        style="display:flex; gap:22px; flex-wrap:wrap; align-items:flex-end",
        attributes={"data-month": str(month)},
    )


@solara.component
def MapView(run: LiveRun, month: int):
    png = solara.use_memo(run.map_png, [run, month])
    solara.Image(png, width="100%", classes=["commsim-map"])


@solara.component
def Charts(run: LiveRun, month: int, specs, wide: bool = False):
    style = "display:grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap:8px"
    if not wide:
        style = "display:grid; grid-template-columns: 1fr; gap:8px"
    solara.HTML(tag="div", unsafe_innerHTML="".join(run.chart(spec) for spec in specs), style=style)
