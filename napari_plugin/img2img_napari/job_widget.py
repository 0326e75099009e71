"""What the Run and Train widgets share: one background job at a time, a progress bar and a
status line, Cancel/Stop, and errors shown in the GUI thread as notifications."""

from __future__ import annotations

from napari.qt.threading import create_worker
from qtpy.QtWidgets import QLabel, QProgressBar, QWidget

from img2img_napari.background import Cancelled, Failed, Progress, guarded, notify_error


class JobWidget(QWidget):
    cancelled_text = "cancelled"  # status after a job ended by Cancel/Stop before it had a result

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._worker = None
        self._progress: Progress | None = None
        self.progress_bar = QProgressBar()
        self.status = QLabel("")
        self.status.setWordWrap(True)

    @property
    def busy(self) -> bool:
        return self._worker is not None

    @property
    def cancel_requested(self) -> bool:
        return self._progress is not None and self._progress.cancelled

    def new_progress(self) -> Progress:
        """The signals of the next job, wired to the bar and the status line; connect more, then start_job."""
        progress = self._progress = Progress()
        progress.advanced.connect(lambda n: self.progress_bar.setValue(self.progress_bar.value() + n))
        progress.message.connect(self.status.setText)
        self.progress_bar.setValue(0)
        return progress

    def start_job(self, func, *args, on_result) -> None:
        """Run func(*args, progress) in a worker thread; on_result gets its result in the GUI thread."""

        def returned(outcome) -> None:
            if isinstance(outcome, Failed):
                self._on_error(outcome.exc)
            else:
                on_result(outcome)

        self._worker = create_worker(guarded(func), *args, self._progress, _start_thread=False)
        self._worker.returned.connect(returned)
        self._worker.finished.connect(self._on_finished)
        self.set_busy(True)
        self._worker.start()

    def request_cancel(self, text: str) -> None:
        if self._progress is not None:
            self._progress.cancel()
            self.status.setText(text)

    def set_busy(self, busy: bool) -> None:
        """Subclasses enable and disable their buttons here."""

    def _on_error(self, exc: BaseException) -> None:
        self.status.setText(self.cancelled_text if isinstance(exc, Cancelled) else notify_error(exc))

    def _on_finished(self) -> None:
        self._worker = None
        self.set_busy(False)
