"""Decoding settings chosen on validation images and stored in the checkpoint."""

import pytest

from img2img.data.pairing import pair_files
from img2img.evaluation.decoding_fit import fit_decoding, store_decoding
from img2img.inference import Predictor
from img2img.models.checkpoint import load_model


def test_fit_never_scores_worse_than_the_start_and_is_stored(cells, segmenter, tmp_path):
    pairs = pair_files(cells / "images", cells / "masks")[:3]
    predictor = Predictor.from_checkpoint(segmenter, device="cpu", precision="32")
    before = predictor.config.segmentation.decoding
    decoding, record = fit_decoding(predictor, pairs, progress=False)
    assert record["objective"] >= record["start_objective"]
    assert predictor.config.segmentation.decoding == before  # the predictor keeps its settings
    assert record["images"] == 3

    copy = tmp_path / "copy.ckpt"
    copy.write_bytes(segmenter.read_bytes())
    changed = decoding.model_copy(update={"seed_threshold": 0.61, "min_size": 5})
    store_decoding(copy, changed)
    assert load_model(copy).config.segmentation.decoding == changed
    assert load_model(segmenter).config.segmentation.decoding != changed  # the original is untouched


def test_the_maps_give_the_labels_predict_gives(cells, segmenter):
    from img2img.io.images import read_image
    from img2img.segmentation.encoding import decode_rescaled

    predictor = Predictor.from_checkpoint(segmenter, device="cpu", precision="32")
    image = read_image(sorted((cells / "images").iterdir())[0])
    [(maps, scale)] = predictor.segmentation_maps(image.data, image.axes)
    labels = decode_rescaled(maps, predictor.config.segmentation.decoding, scale)
    assert scale == 1.0
    assert (labels == predictor.predict(image.data, image.axes)).all()
