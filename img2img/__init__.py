"""img2img: image-to-image translation for scientific imaging."""

__version__ = "0.1.0"
