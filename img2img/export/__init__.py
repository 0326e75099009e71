"""Exporting checkpoints: BioImage.IO packages, ONNX and TorchScript (`img2img export`).

`export_model(checkpoint, output, format)` is the entry point; see docs/export.md."""

from img2img.export.run import FORMATS, TOLERANCE, ExportReport, export_model

__all__ = ["FORMATS", "TOLERANCE", "ExportReport", "export_model"]
