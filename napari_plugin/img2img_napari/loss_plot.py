"""A small live plot of the training losses, one line per loss, redrawn at most twice a second
so that plotting never slows training down."""

from __future__ import annotations

import time

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure

REDRAW_SECONDS = 0.5


class LossPlot(FigureCanvasQTAgg):
    def __init__(self) -> None:
        figure = Figure(figsize=(4, 2.4), tight_layout=True)
        super().__init__(figure)
        self.axes = figure.add_subplot()
        self.history: dict[str, tuple[list[int], list[float]]] = {}
        self._drawn = 0.0
        self.clear()

    def clear(self) -> None:
        self.history = {}
        self.axes.clear()
        self.axes.set_xlabel("step")
        self.axes.set_ylabel("loss")
        self.draw_idle()

    def add(self, metrics: dict) -> None:
        step = metrics["step"]
        for name, value in metrics.items():
            if name != "step":
                steps, values = self.history.setdefault(name, ([], []))
                steps.append(step)
                values.append(value)
        if time.monotonic() - self._drawn >= REDRAW_SECONDS:
            self.redraw()

    def redraw(self) -> None:
        self._drawn = time.monotonic()
        self.axes.clear()
        for name, (steps, values) in sorted(self.history.items()):
            self.axes.plot(steps, values, label=name, linewidth=1)
        self.axes.set_xlabel("step")
        self.axes.set_ylabel("loss")
        self.axes.set_yscale("log")
        if self.history:
            self.axes.legend(fontsize=7, loc="upper right")
        self.draw_idle()
