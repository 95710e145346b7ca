"""Pictures the command line draws: forecasts, a cell's graph, the search history (matplotlib).

Each ``draw_*`` function returns a :class:`matplotlib.figure.Figure` (no pyplot, no global
state); :func:`save_figure` writes one atomically.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from ..files import atomic_path
from ..search import DartsNode, TwoInputNode, get_backbone

SIDE_LABELS = {"x": "x_t", "h": "h_{t-1}"}


def picture_format(path) -> str:
    """The picture format of ``path``'s extension ("png"); an error for one matplotlib cannot
    write (check it before any work)."""
    from matplotlib.backend_bases import FigureCanvasBase

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    supported = FigureCanvasBase.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(f"cannot draw {path}: unknown picture format {path.suffix or '(none)'!r}; "
                         f"use one of .png, .svg, .pdf (all: {', '.join(sorted(supported))}).")
    return fmt


def check_picture_paths(*paths) -> None:
    """Fail now, before any work, when a picture asked for (None: not asked) has a format
    matplotlib cannot write."""
    for path in paths:
        if path is not None:
            picture_format(path)


def save_figure(figure: Figure, path) -> Path:
    """Write ``figure`` to ``path`` (format from the extension) through a temporary file."""
    path = Path(path)
    fmt = picture_format(path)
    with atomic_path(path, suffix=path.suffix) as tmp:
        figure.savefig(tmp, format=fmt, dpi=120, bbox_inches="tight")
    return path


def draw_forecast(history: pd.DataFrame, forecast: pd.DataFrame, bands=None) -> Figure:
    """One panel per target: the recent history and the forecast after it; ``bands``
    (``predict_interval``'s frame, or None) shades each interval, the widest palest."""
    n = len(forecast.columns)
    figure = Figure(figsize=(9, 2.6 * n), layout="constrained")
    axes = figure.subplots(n, 1, squeeze=False)[:, 0]
    for ax, column in zip(axes, forecast.columns):
        past = history[column].dropna()  # (long data: each series on its own times)
        ax.plot(past.index, past.to_numpy(), color="0.3", lw=1, label="history")
        if bands is not None:
            _shade(ax, bands, column)
        joined = pd.concat([past.iloc[-1:], forecast[column].dropna()])
        ax.plot(joined.index, joined.to_numpy(), color="tab:orange", lw=1.5, marker=".",
                label="forecast")
        ax.set_title(str(column), loc="left", fontsize=10)
        ax.legend(loc="upper left", fontsize=8)
    return figure


def draw_long_forecast(frame: pd.DataFrame, table: pd.DataFrame, names, ids, history: int,
                       coverages=()) -> Figure:
    """:func:`draw_forecast` of long data: one panel per series of ``ids``, its last
    ``history`` rows of ``frame`` and its rows of ``table`` (the long forecast, with
    ``<target>_lo_<level>`` / ``<target>_hi_<level>`` for each of ``coverages``)."""
    from ..intervals import level_label

    def wide(rows: pd.DataFrame, column: str) -> pd.DataFrame:
        rows = rows[rows[names.id].isin(ids)]
        return rows.pivot(index=names.time, columns=names.id, values=column)[list(ids)]

    past = frame.sort_values([names.id, names.time]).groupby(names.id).tail(history)
    bands = None
    if coverages:
        bands = pd.concat({(key, coverage, bound): wide(table, f"{names.target}_{side}_"
                                                               f"{level_label(coverage)}")[key]
                           for key in ids for coverage in coverages
                           for side, bound in (("lo", "lower"), ("hi", "upper"))}, axis=1)
        bands.columns.names = ["target", "coverage", "bound"]
    return draw_forecast(wide(past, names.target), wide(table, names.target), bands)


def _shade(ax, bands: pd.DataFrame, column) -> None:
    """Each coverage's band of ``column``, widest first (so that narrower ones show on top)."""
    levels = sorted(bands.columns.unique("coverage"), reverse=True)
    for i, coverage in enumerate(levels):
        ax.fill_between(bands.index, bands[(column, coverage, "lower")],
                        bands[(column, coverage, "upper")], color="tab:orange", lw=0,
                        alpha=0.15 + 0.15 * i, label=f"{100 * coverage:g} % interval")


# ------------------------------------------------------------------------------ cell graph
def _darts_in_edges(i: int, node) -> list[tuple[str, str]]:
    """(source, label) of the edges into DARTS node ``i``: one edge, labelled with its op."""
    return [(f"s{node.input}", node.op)]


def _two_input_in_edges(i: int, node) -> list[tuple[str, str]]:
    """(source, label) of the edges into two-input node ``i``: s_{i-1} and its side input."""
    return [(f"s{i - 1}", node.act_a), (_side_source(node.side, i), node.act_b)]


# by a backbone's node type: the edges into a node, and the text under its name in the box
NODE_PICTURES = {
    DartsNode: (_darts_in_edges, lambda node: ""),  # the op is on the edge
    TwoInputNode: (_two_input_in_edges, lambda node: node.op),  # the binary op mixes two edges
}


def _node_picture(genotype):
    node_type = get_backbone(genotype.backbone).node_type
    if node_type not in NODE_PICTURES:
        raise ValueError(f"cannot draw a {genotype.backbone!r} cell: its nodes "
                         f"({node_type.__name__}) have no picture; add one to NODE_PICTURES in "
                         "autoforecast/cli/plots.py.")
    return NODE_PICTURES[node_type]


def cell_edges(genotype) -> tuple[dict, list]:
    """Positions of the graph's vertices and its edges ``(source, target, label, style)``."""
    nodes = list(genotype.nodes)
    k, (in_edges, _) = len(nodes), _node_picture(genotype)
    pos = {"x_t": (0, 1), "h_{t-1}": (0, -1), "s0": (1, 0), "h_t": (k + 2, 0)}
    pos.update({f"s{i}": (i + 1, 0) for i in range(1, k + 1)})
    edges = [("x_t", "s0", "", "solid"), ("h_{t-1}", "s0", "", "solid")]
    for i, node in enumerate(nodes, start=1):
        edges.extend((source, f"s{i}", label, "solid") for source, label in in_edges(i, node))
        edges.append((f"s{i}", "h_t", "", "dashed"))
    return pos, edges


def _side_source(side: str, i: int) -> str:
    """Where node ``i``'s side input comes from: x_t, h_{t-1}, or s_{i-2} (s_{-1} := h_{t-1})."""
    if side == "skip":
        return SIDE_LABELS["h"] if i == 1 else f"s{i - 2}"
    if side not in SIDE_LABELS:
        raise ValueError(f"unknown side input {side!r} of node {i}.")
    return SIDE_LABELS[side]


def draw_cell(genotype) -> Figure:
    """The derived cell as a graph: inputs, the entry node s0, nodes s1..sK, the output h_t."""
    pos, edges = cell_edges(genotype)
    box_label = _node_picture(genotype)[1]
    width = max(6.0, 1.6 * (len(genotype.nodes) + 3))
    figure = Figure(figsize=(width, 3.6), layout="constrained")
    ax = figure.subplots()
    for source, target, label, style in edges:
        (x0, y0), (x1, y1) = pos[source], pos[target]
        bend = 0.0 if y0 != y1 or abs(x1 - x0) <= 1 else -0.35
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=12,
                                     connectionstyle=f"arc3,rad={bend}", linestyle=style,
                                     shrinkA=16, shrinkB=16, color="0.35"))
        if label:
            lift = 0.28 + (0.35 * abs(x1 - x0) / 2 if bend else 0.0)
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + lift, label, ha="center", fontsize=8,
                    color="tab:blue")
    for name, (x, y) in pos.items():
        text = name
        if name.startswith("s") and name[1:].isdigit() and int(name[1:]) >= 1:
            label = box_label(genotype.nodes[int(name[1:]) - 1])
            text = f"{name}\n{label}" if label else name
        ax.text(x, y, text, ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round", fc="tab:orange" if name[0] == "s" else "0.9", ec="0.3"))
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.9)
    ax.set_axis_off()
    ax.set_title(f"{genotype.backbone} cell, {len(genotype.nodes)} node(s): h_t = learned "
                 f"weighted sum of s1..s{len(genotype.nodes)}", fontsize=10, loc="left")
    return figure


# -------------------------------------------------------------------------- search history
def draw_search_history(records: list[dict]) -> Figure:
    """Validation loss and number of nodes over the search epochs, growth/prune events marked."""
    frame = pd.DataFrame(records)
    for needed in ("epoch", "val_loss", "n_nodes"):
        if needed not in frame.columns:
            raise ValueError(f"the search history has no {needed!r} field (fields: "
                             f"{', '.join(map(str, frame.columns))}); cannot draw it.")
    group = next((c for c in ("search", "search_index") if c in frame.columns), None)
    epochs = frame[frame["event"] == "epoch"] if "event" in frame.columns else frame
    figure = Figure(figsize=(8, 5), layout="constrained")
    loss_ax, nodes_ax = figure.subplots(2, 1, sharex=True)
    for key, part in (epochs.groupby(group) if group else [(None, epochs)]):
        label = f"search {key}" if group else None
        loss_ax.plot(part["epoch"], part["val_loss"], marker=".", label=label)
        nodes_ax.step(part["epoch"], part["n_nodes"], where="post", label=label)
    events = _growth_events(frame, group)
    for epoch, kinds in events.groupby("epoch")["event"]:
        label = "+".join(dict.fromkeys(map(str, kinds)))  # e.g. "grow+prune", in order
        color = "tab:green" if "grow" in label else "tab:red"
        at = epoch + 0.5  # growth and pruning happen after the epoch
        for ax in (loss_ax, nodes_ax):
            ax.axvline(at, color=color, lw=0.8, ls=":")
        nodes_ax.annotate(label, (at, 1.0), xycoords=("data", "axes fraction"), fontsize=7,
                          color=color, xytext=(2, -10), textcoords="offset points")
    loss_ax.set_ylabel("validation loss")
    nodes_ax.set_ylabel("nodes")
    nodes_ax.set_xlabel("search epoch")
    if group:
        loss_ax.legend(fontsize=8)
    return figure


def _growth_events(frame: pd.DataFrame, group) -> pd.DataFrame:
    """Rows of growth/prune events: the ``event`` field where the history has one, else the
    epochs where the number of nodes went up ("grow") or down ("prune") within a search."""
    if "event" in frame.columns:
        return frame[frame["event"].notna() & (frame["event"] != "epoch")]
    change = (frame.groupby(group)["n_nodes"] if group else frame["n_nodes"]).diff().fillna(0)
    events = frame[change != 0].copy()
    events["event"] = ["grow" if c > 0 else "prune" for c in change[change != 0]]
    return events


def draw_training_history(records: list[dict]) -> Figure:
    """Training and validation loss over the epochs of a plain (not searched) model."""
    frame = pd.DataFrame(records)
    figure = Figure(figsize=(8, 3.5), layout="constrained")
    ax = figure.subplots()
    for column in ("train_loss", "val_loss"):
        if column in frame.columns:
            ax.plot(frame["epoch"], frame[column], marker=".", label=column)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    return figure
