"""The shipped nuclei segmenter on real images it never trained on: one DSB 2018 test image of
each modality, read from ../shared/data as published (RGBA PNG), scored as docs/real_nuclei.md
reports (F1 at IoU 0.5 with the automatic object size). Guards the packaged checkpoint and the
whole real-image path (channels, size estimate, rescaling, decoding) against regressions;
skipped where the data set is not beside the project."""

from pathlib import Path

import pytest

from img2img.evaluation.baselines import otsu_watershed
from img2img.segmentation.metrics import segmentation_scores
from img2img.inference.predictor import Predictor
from img2img.io.images import read_image, read_labels

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dsb2018"

# id prefix -> (modality, F1@0.5 in docs/real_nuclei_test_per_image.csv)
MEASURED = {
    "2ab91a440886": ("fluorescence", 0.906),
    "c0f172831b80": ("histology", 0.750),
    "c395870ad9f5": ("brightfield", 0.701),
}

pytestmark = pytest.mark.skipif(not (DATA / "images").is_dir(), reason=f"DSB 2018 images not found in {DATA}")


@pytest.fixture(scope="module")
def builtin() -> Predictor:
    return Predictor.from_checkpoint("builtin:nuclei")


@pytest.mark.parametrize("prefix", sorted(MEASURED))
def test_builtin_keeps_its_measured_score_and_beats_otsu(builtin, prefix):
    modality, measured = MEASURED[prefix]
    (image_path,) = sorted((DATA / "images").glob(f"{prefix}*.png"))
    image = read_image(image_path)
    true = read_labels(DATA / "masks" / f"{image_path.stem}.tif")
    f1 = segmentation_scores(builtin.predict(image.data, image.axes), true)["f1"]
    otsu = segmentation_scores(otsu_watershed(image.data, bright_objects="auto"), true)["f1"]
    assert f1 >= measured - 0.03, f"{modality} {prefix}: F1 {f1:.3f}, measured {measured:.3f}"
    assert f1 > otsu, f"{modality} {prefix}: F1 {f1:.3f}, Otsu + watershed {otsu:.3f}"
