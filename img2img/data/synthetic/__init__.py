"""Synthetic images with instance labels: the project's stand-in for real data in tests and demos.

`render_cells` draws fluorescence nuclei (uint16), `render_fins` sea photographs with
dolphin fins (RGB uint8); `write_synthetic_dataset` writes either to images/ + masks/.
"""

from img2img.data.synthetic.cells import render_cells
from img2img.data.synthetic.fins import render_fins
from img2img.data.synthetic.writer import GENERATORS, write_synthetic_dataset

__all__ = ["GENERATORS", "render_cells", "render_fins", "write_synthetic_dataset"]
