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


@pytest.mark.slow
@pytest.mark.parametrize("val_fraction, fitted", [(0.34, True), (0.0, False)])
def test_training_fits_the_decoding_on_whole_validation_images_only(cells, tmp_path, val_fraction, fitted):
    from img2img.config.loading import validate_config
    from img2img.models.checkpoint import read_checkpoint
    from img2img.training import train

    config = validate_config({
        "model": {"name": "pix2pix", "generator": {"base_channels": 8, "depth": 3},
                  "discriminator": {"base_channels": 8}},
        "data": {"input_dir": str(cells / "images"), "target_dir": str(cells / "masks"), "patch_size": 32,
                 "batch_size": 2, "patches_per_image": 1, "num_workers": 0, "val_fraction": val_fraction},
        "segmentation": {"fit_decoding": True}, "schedule": {"steps": 2}, "trainer": {"samples": 0},
        "output_dir": str(tmp_path / "run"),
    })
    best = train(config, progress=False)
    log = (tmp_path / "run" / "train.log").read_text()
    stored = read_checkpoint(best)["hyper_parameters"]["config"]["segmentation"]["decoding"]
    if fitted:
        assert "decoding chosen on 2 validation images" in log
        assert all(f"{k} {v}" in log for k, v in stored.items())  # the log names what was stored
    else:
        assert "fit_decoding skipped" in log
        assert stored == config.segmentation.decoding.model_dump()
