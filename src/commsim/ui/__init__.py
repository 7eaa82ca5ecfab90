"""The browser front end (Solara): a live model for trainers, scenario comparison and a sweep explorer.

`commsim ui` starts `commsim.ui.app` through `commsim.ui.serve` (Solara's server, behind a token check beyond
loopback). Only the page modules (`app`, `live`, `compare_page`, `sweeps_page`, `widgets`) and `serve` import
solara; the rest (`levers`, `session`, `district_map`, `charts`, `figures`, `stored`) are plain
Python over the model, the store and the analysis, and are tested and benchmarked without a browser.
"""
