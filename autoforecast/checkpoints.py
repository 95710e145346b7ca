"""Checkpoints of the training loop: everything a cut-off :func:`~autoforecast.training.train_module`
needs to go on as if it had never stopped.

After every epoch the loop writes one file (``torch.save``, replaced atomically through
:func:`autoforecast.files.atomic_path`): the module's current weights, the best epoch's weights,
the optimiser (its state, learning rate, NT-ASGD's record and average), the result so far
(history, best epoch, items and seconds trained), the early-stopping counters, the wall time
used and torch's random generators (the next dropout masks). A run started with the same
checkpoint path loads it and continues with the next epoch; a finished run (the epochs done,
early stopping or the time cap) returns at once. The batch streams must give the same batches
in every epoch (``TBPTTStream`` does), so that the resumed epochs are those of an uncut run.

The file holds tensors, numbers and strings only, and loads with ``weights_only=True``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .files import atomic_path

FORMAT = 1


def rng_state() -> dict:
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path, state: dict) -> None:
    """Write ``state`` (tensors, numbers, strings, lists and dicts of them) to ``path`` whole
    or not at all."""
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, **state}, tmp)


def load_checkpoint(path) -> dict | None:
    """The state saved at ``path``; None when there is no file yet."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a file that is not a checkpoint of ours
        raise ValueError(f"cannot resume from {str(path)!r}: it is not a training checkpoint "
                         f"({type(error).__name__}: {error}); delete it or pass another "
                         "checkpoint path.") from error
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"cannot resume from {str(path)!r}: it is not a training checkpoint of "
                         f"format {FORMAT}; delete it or pass another checkpoint path.")
    return state


def load_module_state(module, state: dict, path) -> None:
    """``module.load_state_dict(state)``, with an error naming the checkpoint on a mismatch."""
    try:
        module.load_state_dict(state)
    except RuntimeError as error:
        raise ValueError(f"the checkpoint {str(path)!r} holds the weights of another network "
                         f"({str(error).splitlines()[0]}); resume with the settings it was "
                         "written with, or pass a new checkpoint path.") from error


class FitCheckpoint:
    """A folder that holds a fit's finished stages and its training loops' checkpoints, so that
    an estimator's fit cut off at any point resumes: ``settings.json`` (the estimator's
    parameters, as ``repr``), a JSON file per finished stage (:meth:`load_json`,
    :meth:`save_json`) and a loop checkpoint per training stage (:meth:`loop`).

    Parameters named in ``may_change`` (more epochs, another time cap, verbosity) may differ
    on resume; any other difference is refused, so that no fit mixes two settings.
    """

    def __init__(self, folder, params: dict, may_change=()):
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"`checkpoint` must be a folder, got the file {str(folder)!r}; "
                             "pass a folder path (it is created when missing).")
        if not self.folder.parent.is_dir():
            raise FileNotFoundError(f"cannot make the checkpoint folder {str(folder)!r}: the "
                                    f"folder {str(self.folder.parent)!r} does not exist.")
        self.folder.mkdir(exist_ok=True)
        settings = {k: repr(v) for k, v in sorted(params.items()) if k not in may_change}
        saved = self.load_json("settings")
        if saved is None:
            self.save_json("settings", settings)
        elif saved != settings:
            changed = sorted(k for k in settings.keys() | saved.keys() if settings.get(k) != saved.get(k))
            raise ValueError(
                f"the checkpoint folder {str(folder)!r} holds a fit with other settings "
                f"({', '.join(f'{k}: {saved.get(k)} there, {settings.get(k)} now' for k in changed)}); "
                "resume with the same settings, or pass a new folder.")

    def loop(self, stage: str) -> Path:
        """The checkpoint file of the training loop of ``stage``."""
        return self.folder / f"{stage.replace(':', '_')}.pt"

    def load_json(self, name: str):
        path = self.folder / f"{name}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def save_json(self, name: str, data) -> None:
        with atomic_path(self.folder / f"{name}.json") as tmp:
            tmp.write_text(json.dumps(data), encoding="utf-8")
