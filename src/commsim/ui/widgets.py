"""Small Solara pieces the pages share: a slider that reports a value only when the user lets go, a number
field, and the page's message line."""

from collections.abc import Callable

import reacton.ipyvue
import reacton.ipyvuetify as rv
import solara

SMALL = "font-size: 0.82rem; color: #444; line-height: 1.3"


@solara.component
def CommitSlider(
    label: str,
    value: float,
    on_commit: Callable[[float], None],
    *,
    minimum: float,
    maximum: float,
    step: float,
    integer: bool = False,
    disabled: bool = False,
    classes: list[str] | None = None,
):
    """A slider whose thumb follows the mouse but which calls `on_commit` once, when the user lets go (or presses
    an arrow key): rebuilding a district on every pixel of a drag would lag behind the hand."""
    shown, set_shown = solara.use_state(value)
    solara.use_effect(lambda: set_shown(value), [value])  # follow a new value from the page (another scenario)

    def commit(widget, _event, data) -> None:
        current = data if isinstance(data, int | float) else widget.v_model
        on_commit(round(current) if integer else round(float(current), 6))

    slider = rv.Slider(
        v_model=shown,
        on_v_model=set_shown,
        label=label,
        min=minimum,
        max=maximum,
        step=step,
        thumb_label=True,
        hide_details=True,
        dense=True,
        disabled=disabled,
        class_=" ".join(classes or []),
    )
    reacton.ipyvue.use_event(slider, "change", commit)
    return slider


def note(text: str, style: str = SMALL, classes: list[str] | None = None):
    """A line or paragraph of small explanatory text (a block of its own, unlike solara.Text)."""
    return rv.Html(tag="div", children=[text], style_=style, class_=" ".join(classes or []))


@solara.component
def Message(text: str | None, kind: str = "error"):
    """The page's message line: an error (bad input, an unreadable database), a warning or a note."""
    if not text:
        return solara.Text("")
    shown = {"error": solara.Error, "warning": solara.Warning, "info": solara.Info, "success": solara.Success}[kind]
    return shown(text, classes=[f"commsim-{kind}"], dense=True)


def number_field(
    label: str, value: str, on_value: Callable[[str], None], *, error: str | None = None, hint: str | None = None
):
    """A text field for a whole number (typed text arrives as a string; the caller parses it and reports)."""
    return solara.InputText(
        label, value=value, on_value=on_value, error=error or False, message=hint, classes=["commsim-field"]
    )
