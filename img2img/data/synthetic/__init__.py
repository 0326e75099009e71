"""Synthetic images with instance labels: the project's stand-in for real data in tests and demos.

`render_cells` draws fluorescence nuclei (uint16), `render_fins` sea photographs with
dolphin fins (RGB uint8), `render_denoising` noisy/clean low-light nuclei pairs, `render_filaments` noisy/clean fibres;
`render_larvae` larva arenas, clean or camera-like; `render_nuclei_3d` Z stacks of touching nuclei with 3D labels;
`write_synthetic_dataset` writes them to images/ + masks/ (denoise, filaments: images/ + targets/; larvae:
sim/ + real/ with .json positions).
"""

from img2img.data.synthetic.cells import render_cells
from img2img.data.synthetic.denoise import render_denoising
from img2img.data.synthetic.filaments import render_filaments
from img2img.data.synthetic.fins import render_fins
from img2img.data.synthetic.larvae import render_larvae
from img2img.data.synthetic.nuclei3d import render_nuclei_3d
from img2img.data.synthetic.writer import GENERATORS, PAIR_GENERATORS, TARGET_FOLDER, UNPAIRED_KINDS, summary, write_synthetic_dataset

__all__ = ["GENERATORS", "PAIR_GENERATORS", "TARGET_FOLDER", "UNPAIRED_KINDS", "render_cells", "render_denoising",
           "render_filaments", "render_fins", "render_larvae", "render_nuclei_3d", "summary", "write_synthetic_dataset"]
