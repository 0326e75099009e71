"""The network an export holds: the generator a checkpoint's Predictor runs, as one plain module.

Export formats want one `nn.Module` that maps normalized tensors to the model's output, without
Lightning, discriminators or EMA copies. `ExportedNetwork` is that module, and it is also the
architecture callable of the BioImage.IO `pytorch_state_dict` weights: built from plain keyword
arguments (the checkpoint's stored hyperparameters), so a consumer can rebuild it by importing it.

Input and output are on the networks' own scale, [-1, 1]; the intensity mapping around it is
described by the export's pre- and post-processing (`processing.py`), not baked in.
"""

from __future__ import annotations

import torch
from torch import nn

from img2img.kinds import get_kind
from img2img.models.base import ImageModule
from img2img.models.inpaint import copy_back
from img2img.models.registry import model_class


class ExportedNetwork(nn.Module):
    """The generator of one model kind (and, for CycleGAN, one direction).

    Pix2Pix, super-resolution, colorization, CycleGAN: `forward(image)`. Inpainting:
    `forward(image, mask)` with the hole mask (1 = fill) as its own tensor; known pixels come back
    unchanged, as in `Inpaint.forward`.
    """

    def __init__(self, config: dict, in_channels: int, out_channels: int, input_dtype: str,
                 target_dtype: str | None = None, direction: str = "AtoB"):
        super().__init__()
        self.kwargs = {"config": config, "in_channels": in_channels, "out_channels": out_channels,
                       "input_dtype": input_dtype, "target_dtype": target_dtype, "direction": direction}
        module = model_class(config["model"]["name"])(config=config, in_channels=in_channels,
                                                      out_channels=out_channels, input_dtype=input_dtype,
                                                      target_dtype=target_dtype)
        self.net = module.generator_ba if direction == "BtoA" else module.generator
        self.takes_mask = get_kind(config["model"]["name"]).takes_mask

    def forward(self, image: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if not self.takes_mask:
            return self.net(image)
        holes = (mask > 0.5).to(image.dtype)
        return copy_back(self.net(image, holes), image, holes)


def network_kwargs(model: ImageModule, direction: str = "AtoB") -> dict:
    """The keyword arguments that rebuild `model`'s exported network (plain YAML/JSON types)."""
    hparams = dict(model.hparams)
    return {"config": hparams["config"], "in_channels": int(hparams["in_channels"]),
            "out_channels": int(hparams["out_channels"]), "input_dtype": hparams["input_dtype"],
            "target_dtype": hparams.get("target_dtype"), "direction": direction}


def exported_network(model: ImageModule, direction: str = "AtoB") -> ExportedNetwork:
    """`model`'s inference generator (the EMA weights where it kept them, as `load_model` leaves
    them) in an `ExportedNetwork`, in eval mode on the CPU."""
    network = ExportedNetwork(**network_kwargs(model, direction))
    source = model.generator_ba if direction == "BtoA" else model.generator
    network.net.load_state_dict(source.state_dict())
    return network.eval()
