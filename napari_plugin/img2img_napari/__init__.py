"""img2img in napari: run trained models on layers and train new ones from layers.

The widgets call the same `img2img.Predictor` and `img2img.training.train` as the CLI, so a
model behaves the same in the viewer, on the command line and in a script.
"""

__all__ = ["RunWidget", "TrainWidget"]


def __getattr__(name):  # keep `import img2img_napari` light: Qt loads only when a widget is asked for
    if name == "RunWidget":
        from img2img_napari.run_widget import RunWidget

        return RunWidget
    if name == "TrainWidget":
        from img2img_napari.train_widget import TrainWidget

        return TrainWidget
    raise AttributeError(name)
