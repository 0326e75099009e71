"""Work off the GUI thread: progress that crosses threads, Cancel/Stop, and errors in plain words.

Qt delivers a signal emitted in a worker thread to the GUI thread (a queued connection), so
the worker never touches a widget itself; Cancel is a flag the worker checks between tiles.
"""

from __future__ import annotations

import logging
import threading

from qtpy.QtCore import QObject, Signal

from img2img.errors import UserError

log = logging.getLogger("img2img_napari")


class Cancelled(Exception):
    """Raised inside a worker when the user pressed Cancel."""


class Progress(QObject):
    """Signals a worker emits; the widget connects them to its progress bar and plot."""

    advanced = Signal(int)  # units of work just finished (tiles, training steps)
    total = Signal(int)  # how many units the job has
    message = Signal(str)  # what the worker is doing now
    metrics = Signal(dict)  # training: {"step": int, "loss_l1": float, ...}
    preview = Signal(str)  # training: path of the newest sample grid (input | output | target)
    preview_image = Signal(object)  # training, segmentation: (H, W, 3) uint8 grid of decoded objects
    score = Signal(dict)  # training: {"step": int, <config.best_metric>: float} after each validation

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()


class Failed:
    """What a guarded worker returns instead of raising: napari would turn a raised error into
    a traceback notification of its own, and Cancel is not an error at all."""

    def __init__(self, exc: BaseException):
        self.exc = exc


def guarded(func):
    """`func` for a worker thread: returns its result, or `Failed(exc)` if it raised."""

    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:  # reported by the widget, in the GUI thread
            return Failed(exc)

    return call


def plain_message(exc: BaseException) -> str:
    """One line for a notification: our own errors say what to fix; others name their kind."""
    if isinstance(exc, UserError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"img2img failed ({type(exc).__name__}{': ' + text if text else ''})"


def notify_error(exc: BaseException) -> str:
    """Show the error as a napari notification (never a frozen viewer) and log the traceback."""
    from napari.utils.notifications import show_error

    message = plain_message(exc)
    if not isinstance(exc, UserError):
        log.error("img2img error", exc_info=exc)
    show_error(message)
    return message
