"""A small live plot of training: one line per loss (left axis, log scale, redrawn at most twice a
second so that plotting never slows training down) and, on the right axis, the validation score
that picks best.ckpt (`config.best_metric`: object F1 for segmentation), one point per validation.

Losses of a GAN say little about quality; the validation score is the number to watch, and
its peak is the model that is kept.
"""

from __future__ import annotations

import time

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure

REDRAW_SECONDS = 0.5
SCORE_COLOUR = "black"
SCORE_NAMES = {"val/f1": "validation F1", "val/psnr": "validation PSNR (dB)", "val/loss_cycle": "validation cycle L1"}


class LossPlot(FigureCanvasQTAgg):
    def __init__(self) -> None:
        figure = Figure(figsize=(4, 2.4), tight_layout=True)
        super().__init__(figure)
        self.axes = figure.add_subplot()
        self.score_axes = self.axes.twinx()
        self.history: dict[str, tuple[list[int], list[float]]] = {}  # losses per step
        self.scores: dict[str, tuple[list[int], list[float]]] = {}  # validation score per validation
        self._drawn = 0.0
        self.clear()

    def clear(self) -> None:
        self.history, self.scores = {}, {}
        self.redraw()

    def add(self, metrics: dict) -> None:
        """Losses of one step: {"step": int, name: value, ...}."""
        self._append(self.history, metrics)
        if time.monotonic() - self._drawn >= REDRAW_SECONDS:
            self.redraw()

    def add_score(self, metrics: dict) -> None:
        """The validation score: {"step": int, "val/f1": value}; drawn at once (validations are rare)."""
        self._append(self.scores, metrics)
        self.redraw()

    @staticmethod
    def _append(history: dict, metrics: dict) -> None:
        step = metrics["step"]
        for name, value in metrics.items():
            if name != "step":
                steps, values = history.setdefault(name, ([], []))
                steps.append(step)
                values.append(value)

    def redraw(self) -> None:
        self._drawn = time.monotonic()
        self.axes.clear()
        self.score_axes.clear()
        lines = []
        for name, (steps, values) in sorted(self.history.items()):
            lines += self.axes.plot(steps, values, label=name, linewidth=1)
        self.axes.set_xlabel("step")
        self.axes.set_ylabel("loss")
        if self.history:
            self.axes.set_yscale("log")
        for name, (steps, values) in self.scores.items():
            label = SCORE_NAMES.get(name, name)
            lines += self.score_axes.plot(steps, values, "o-", color=SCORE_COLOUR, markersize=3, linewidth=1.5,
                                          label=f"{label} (picks best)")
            self.score_axes.set_ylabel(label)
            self.score_axes.yaxis.set_label_position("right")  # clear() put it back on the left, over "loss"
            if name == "val/f1":
                self.score_axes.set_ylim(-0.03, 1.03)  # points at 0 stay visible above the axis
        self.score_axes.set_visible(bool(self.scores))
        if lines:  # above the axes, so it never hides the curves
            self.axes.legend(lines, [line.get_label() for line in lines], fontsize=6, loc="lower center",
                             bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False, handlelength=1.5)
        self.draw_idle()
