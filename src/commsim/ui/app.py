"""The commsim browser app: `solara run commsim.ui.app` (what `commsim ui` starts). Three pages: Live (the
model month by month), Compare (scenarios on common seeds, stored comparisons) and Sweeps (stored sweeps)."""

import solara
import solara.lab

from commsim.ui.compare_page import ComparePage
from commsim.ui.live import LivePage
from commsim.ui.sweeps_page import SweepsPage

TITLE = "commsim"


@solara.component
def Layout(children=[]):  # noqa: B006 - solara's layout signature
    """The app bar with the title and a tab per page (ours, labelled: solara's own would be named by path), then
    the page."""
    current, routes = solara.use_route()
    solara.Title(f"{TITLE}: {current.label}" if current is not None else TITLE)
    with solara.AppLayout(navigation=True) as layout, solara.Column(style="width: 100%"):
        with solara.AppBarTitle():  # the app bar's parts are portals: placed here, shown in the bar
            solara.Text(TITLE)
        with solara.AppBar(), solara.lab.Tabs(align="center"):
            for route in routes:
                solara.lab.Tab(route.label, path_or_route=route, classes=[f"commsim-tab-{route.label.lower()}"])
        solara.Column(children=children, style="width: 100%")
    return layout


routes = [
    solara.Route(path="/", component=LivePage, label="Live", layout=Layout),
    solara.Route(path="compare", component=ComparePage, label="Compare"),
    solara.Route(path="sweeps", component=SweepsPage, label="Sweeps"),
]
