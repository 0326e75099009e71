"""Checkpoints and configs that are damaged, edited or hostile: each is one line that names the
file and the fix, exit 2, never a traceback, and no pickled code ever runs."""

import copy
import os

import numpy as np
import pytest
import tifffile
import torch

from img2img.cli import main


class RunsCode:
    """Unpickling this runs a shell command: what a malicious checkpoint does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def edited(segmenter, tmp_path, edit) -> str:
    checkpoint = copy.deepcopy(torch.load(segmenter, weights_only=True))
    edit(checkpoint)
    path = tmp_path / "edited.ckpt"
    torch.save(checkpoint, path)
    return str(path)


def infer(tmp_path, model: str, capsys) -> tuple[int, str]:
    tifffile.imwrite(tmp_path / "a.tif", np.random.default_rng(0).integers(0, 4000, (64, 64), dtype=np.uint16))
    code = main(["infer", str(tmp_path / "a.tif"), "--model", model, "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    return code, err


def drop(*keys):
    def edit(checkpoint):
        node = checkpoint
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]
    return edit


def put(value, *keys):
    def edit(checkpoint):
        node = checkpoint
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return edit


@pytest.mark.parametrize("edit, expected", [
    (drop("state_dict"), "holds no weights (state_dict)"),
    (drop("hyper_parameters", "config"), "stored config lacks model.name"),
    (put("deep", "hyper_parameters", "config", "model", "generator", "depth"), "stored config: 'model.generator.depth'"),
    (put(7, "hyper_parameters", "config", "model", "generator", "depth"), "stored config: data.patch_size 64 must be"),
    (put(3, "hyper_parameters", "in_channels"), "weights do not fit the stored model (size mismatch for"),
])
def test_edited_checkpoints_are_one_line(segmenter, tmp_path, capsys, edit, expected):
    code, err = infer(tmp_path, edited(segmenter, tmp_path, edit), capsys)
    assert code == 2 and expected in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out" / "a.tif").exists()


def test_a_checkpoint_with_code_is_refused_with_the_reason_and_the_code_never_runs(tmp_path, capsys):
    marker = tmp_path / "ran"
    torch.save({"hyper_parameters": {"img2img_version": "0"}, "x": RunsCode(marker)}, tmp_path / "evil.ckpt")
    code, err = infer(tmp_path, str(tmp_path / "evil.ckpt"), capsys)
    assert code == 2 and not marker.exists()
    # The reason PyTorch gives comes after its boilerplate, which must not be all the user sees
    # (nor its advice to load with weights_only=False).
    assert "the safe loader, which runs no pickled code, refused it" in err and "posix.system" in err and "weights_only" not in err, err


def test_random_bytes_as_checkpoint(tmp_path, capsys):
    (tmp_path / "noise.ckpt").write_bytes(np.random.default_rng(0).bytes(300))
    code, err = infer(tmp_path, str(tmp_path / "noise.ckpt"), capsys)
    assert code == 2 and err.startswith("error: ") and "noise.ckpt" in err and "Traceback" not in err


def test_a_binary_file_as_config_is_one_line(tmp_path, capsys):
    (tmp_path / "config.yaml").write_bytes(bytes(range(256)) * 4)
    assert main(["train", str(tmp_path / "config.yaml")]) == 2
    err = capsys.readouterr().err
    assert "config.yaml: not a text file" in err and len(err.strip().splitlines()) == 1


def test_a_tiff_declaring_more_pixels_than_memory_is_one_line(tmp_path):
    """A compressed TIFF is decoded whole; a damaged header once asked for 75 GiB and met the
    out-of-memory killer."""
    import struct

    from img2img.errors import UserError
    from img2img.io.images import read_image

    tifffile.imwrite(tmp_path / "a.tif", np.zeros((64, 64), np.uint16), compression="zlib")
    with tifffile.TiffFile(tmp_path / "a.tif") as tif:
        offsets = [tif.pages[0].tags[tag].valueoffset for tag in (256, 257)]  # ImageWidth, ImageLength
    data = bytearray((tmp_path / "a.tif").read_bytes())
    for offset in offsets:
        data[offset : offset + 4] = struct.pack("<I", 200_000)
    (tmp_path / "a.tif").write_bytes(bytes(data))
    for lazy in (False, True):
        with pytest.raises(UserError, match=r"a.tif: declares 200000x200000 uint16 pixels \(74.5 GiB\), more than the"):
            read_image(tmp_path / "a.tif", lazy=lazy)
