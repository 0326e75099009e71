"""A BioImage.IO package "from elsewhere", built offline for tests: a 3x3 smoothing convolution
(architecture in a source file of its own, not img2img's) with its own pre-processing
(zero mean, unit variance per image) and post-processing (sigmoid), and TorchScript and/or
state-dict weights; or one with Keras weights only, which img2img cannot run."""

from pathlib import Path

import numpy as np
import torch

SOURCE = '''
import torch


class Smooth(torch.nn.Module):
    def __init__(self, weight: float = 1.0):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, 3, padding=1, bias=True)
        with torch.no_grad():
            self.conv.weight.fill_(weight / 9.0)
            self.conv.bias.fill_(0.25)

    def forward(self, x):
        return self.conv(x)
'''


def foreign_forward(image: np.ndarray) -> np.ndarray:
    """What the package computes for a (H, W) image, in numpy (reflect-free: zero padding, as the conv)."""
    from scipy import ndimage

    x = image.astype(np.float64)
    x = (x - x.mean()) / (x.std() + 1e-6)
    smooth = ndimage.correlate(x, np.full((3, 3), 2.0 / 9.0), mode="constant") + 0.25
    return (1 / (1 + np.exp(-smooth))).astype(np.float32)


def write_foreign_package(folder: Path, weights=("torchscript", "pytorch_state_dict"), keras_only=False) -> Path:
    import bioimageio.spec.model.v0_5 as v
    from bioimageio.spec import save_bioimageio_package

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "smooth_net.py").write_text(SOURCE)
    namespace: dict = {}
    exec(SOURCE, namespace)
    net = namespace["Smooth"](2.0).eval()
    image = (np.random.default_rng(0).random((48, 64)) * 200).astype(np.float32)
    np.save(folder / "in.npy", image[None, None])
    np.save(folder / "out.npy", foreign_forward(image)[None, None])
    (folder / "README.md").write_text("# Smooth\n\n## Validation\n\nNone; a test fixture.\n")
    torch_version = v.Version(torch.__version__.split("+")[0])
    entries = {}
    if keras_only:
        (folder / "weights.h5").write_bytes(b"not really keras")
        entries["keras_hdf5"] = v.KerasHdf5WeightsDescr(source=v.FileDescr(source=folder / "weights.h5").source,
                                                        tensorflow_version=v.Version("2.15"))
    if "pytorch_state_dict" in weights and not keras_only:
        torch.save(net.state_dict(), folder / "weights.pt")
        entries["pytorch_state_dict"] = v.PytorchStateDictWeightsDescr(
            source=folder / "weights.pt", pytorch_version=torch_version,
            architecture=v.ArchitectureFromFileDescr(source=folder / "smooth_net.py", callable=v.Identifier("Smooth"),
                                                     kwargs={"weight": 2.0}))
    if "torchscript" in weights and not keras_only:
        torch.jit.trace(net, torch.zeros(1, 1, 16, 16)).save(str(folder / "weights_ts.pt"))
        entries["torchscript"] = v.TorchscriptWeightsDescr(
            source=folder / "weights_ts.pt", pytorch_version=torch_version,
            parent="pytorch_state_dict" if "pytorch_state_dict" in entries else None)
    size = v.ParameterizedSize(min=16, step=16)
    descr = v.ModelDescr(
        name="Smooth foreign model", description="a smoothing convolution with its own processing",
        authors=[v.Author(name="Someone Else")], cite=[v.CiteEntry(text="none", url="https://example.com")],
        license=v.LicenseId("MIT"), documentation=v.FileDescr(source=folder / "README.md"),
        inputs=[v.InputTensorDescr(
            id=v.TensorId("raw"), axes=[v.BatchAxis(), v.ChannelAxis(channel_names=[v.Identifier("c")]),
                                        v.SpaceInputAxis(id=v.AxisId("y"), size=size), v.SpaceInputAxis(id=v.AxisId("x"), size=size)],
            test_tensor=v.FileDescr(source=folder / "in.npy"), data=v.IntervalOrRatioDataDescr(type="float32"),
            preprocessing=[v.ZeroMeanUnitVarianceDescr(kwargs=v.ZeroMeanUnitVarianceKwargs(axes=[v.AxisId("y"), v.AxisId("x")]))])],
        outputs=[v.OutputTensorDescr(
            id=v.TensorId("prob"), axes=[v.BatchAxis(), v.ChannelAxis(channel_names=[v.Identifier("p")]),
                                         v.SpaceOutputAxis(id=v.AxisId("y"), size=v.SizeReference(tensor_id=v.TensorId("raw"), axis_id=v.AxisId("y"))),
                                         v.SpaceOutputAxis(id=v.AxisId("x"), size=v.SizeReference(tensor_id=v.TensorId("raw"), axis_id=v.AxisId("x")))],
            test_tensor=v.FileDescr(source=folder / "out.npy"), data=v.IntervalOrRatioDataDescr(type="float32"),
            postprocessing=[v.SigmoidDescr()])],
        weights=v.WeightsDescr(**entries),
    )
    return Path(save_bioimageio_package(descr, output_path=folder.with_suffix(".zip")))


RDF_0_4 = """format_version: 0.4.10
type: model
name: Smooth foreign model v04
description: the same smoothing convolution, described in the older spec 0.4
authors: [{name: Someone Else}]
cite: [{text: none, url: "https://example.com"}]
license: MIT
documentation: README.md
timestamp: "2024-01-01T00:00:00"
inputs:
  - name: raw
    axes: bcyx
    data_type: float32
    data_range: [-.inf, .inf]
    shape: {min: [1, 1, 16, 16], step: [0, 0, 16, 16]}
    preprocessing: [{name: zero_mean_unit_variance, kwargs: {mode: per_sample, axes: xy}}]
outputs:
  - name: prob
    axes: bcyx
    data_type: float32
    data_range: [0, 1]
    shape: {reference_tensor: raw, scale: [1, 1, 1, 1], offset: [0, 0, 0, 0]}
    postprocessing: [{name: sigmoid}]
test_inputs: [in.npy]
test_outputs: [out.npy]
weights:
  torchscript: {source: weights_ts.pt, pytorch_version: "2.13"}
"""


def write_foreign_package_v04(folder: Path) -> Path:
    """The same model as a spec 0.4 package (many zoo models still are), its rdf.yaml written as such."""
    import zipfile

    source = write_foreign_package(folder / "v05", weights=("torchscript",))
    package = folder / "v04.zip"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(package, "w") as new:
        for name in ("README.md", "in.npy", "out.npy", "weights_ts.pt"):
            new.writestr(name, old.read(name))
        new.writestr("rdf.yaml", RDF_0_4)
    return package
