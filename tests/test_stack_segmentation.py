"""3D objects from Z stacks: plane-wise labels stitched by overlap (ids unique through a stack,
time series frame by frame), 3D scoring in `evaluate`, and generated touching nuclei with known 3D
labels on which stitched 3D objects score at least as well as the planes do in 2D."""

import json

import numpy as np
import pytest
import tifffile

from img2img.builtin import builtin_model_path
from img2img.cli import main
from img2img.data.synthetic.nuclei3d import CALIBRATION, render_nuclei_3d
from img2img.errors import UserError
from img2img.segmentation.metrics import aggregate_scores, match_instances, segmentation_scores
from img2img.inference import Predictor
from img2img.io.images import read_image, write_image
from img2img.segmentation.stitching import Stitcher, parse_stitch, relabel_onto, stitch_axis, stitch_volume


def per_plane(volume: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each plane of a 3D label volume numbered from 1 on its own, in a shuffled order: what a 2D
    segmenter gives for a stack."""
    rng = np.random.default_rng(seed)
    out = np.zeros_like(volume)
    for z, plane in enumerate(volume):
        ids = np.unique(plane[plane > 0])
        lookup = np.zeros(int(volume.max()) + 1, volume.dtype)
        lookup[ids] = rng.permutation(len(ids)) + 1
        out[z] = lookup[plane]
    return out


def same_objects(a: np.ndarray, b: np.ndarray) -> bool:
    match = match_instances(a, b, 0.999)
    return match.fp == 0 and match.fn == 0


@pytest.fixture(scope="module")
def stack():
    return render_nuclei_3d(np.random.default_rng(4), (16, 96, 96))


def test_stitching_plane_wise_labels_of_known_objects_gives_them_back(stack):
    _, truth = stack
    planes = per_plane(truth)
    assert not same_objects(planes, truth)
    stitched = stitch_volume(planes)
    assert same_objects(stitched, truth)
    assert stitched.max() == len(np.unique(truth)) - 1  # ids 1..N through the stack


def test_without_joining_ids_are_still_unique_through_the_stack(stack):
    _, truth = stack
    planes = per_plane(truth)
    unique = stitch_volume(planes, threshold=None)
    counts = [len(np.unique(p[p > 0])) for p in planes]
    assert unique.max() == sum(counts)
    assert all(not set(np.unique(unique[z])) - {0} & set(np.unique(unique[z + 1])) for z in range(len(unique) - 1))


def test_an_object_merged_on_one_plane_is_split_between_the_two_below():
    below = np.zeros((20, 30), np.uint16)
    below[5:15, 2:14], below[5:15, 16:28] = 1, 2
    merged = np.zeros_like(below)
    merged[5:15, 3:27] = 7  # the seam was not seen here
    out, count = relabel_onto(merged, below, 2, 0.25)
    assert count == 2 and set(np.unique(out)) == {0, 1, 2}
    assert np.all(out[5:15, 3:14] == 1) and np.all(out[5:15, 17:27] == 2)


def test_the_narrowing_end_of_an_object_continues_it():
    below = np.zeros((40, 40), np.uint16)
    below[5:35, 5:35] = 3
    tip = np.zeros_like(below)
    tip[17:23, 17:23] = 1  # IoU 0.04 but inside the object below
    out, count = relabel_onto(tip, below, 3, 0.25)
    assert count == 3 and set(np.unique(out)) == {0, 3}


def test_stitch_option_and_which_axis():
    assert parse_stitch("auto") == "auto" and parse_stitch("off") == "off" and parse_stitch("0.4") == 0.4
    for bad in ("1.5", "-1", "yes"):
        with pytest.raises(UserError, match="--stitch"):
            parse_stitch(bad)
    assert stitch_axis("auto", "Z") == ("Z", 0.25)
    assert stitch_axis("auto", "TZ") == ("Z", 0.25)
    assert stitch_axis("auto", "T") == (None, None)  # time series: frame by frame
    assert stitch_axis(0.5, "T") == ("T", 0.5)  # unless asked
    assert stitch_axis("off", "Z") == ("Z", None)


def test_volumes_of_a_time_series_of_stacks_are_numbered_apart():
    volume = np.zeros((2, 10, 10), np.uint16)
    volume[:, 2:8, 2:8] = 1
    stitcher = Stitcher("TZ", (2, 2), "Z", 0.25)
    planes = [stitcher.add(k, volume[k % 2]) for k in range(4)]
    assert [int(p.max()) for p in planes] == [1, 1, 1, 1]  # one object per time point, each from 1


@pytest.fixture(scope="module")
def builtin():
    return Predictor.from_checkpoint(builtin_model_path("nuclei"), device="cpu", precision="32")


def test_generated_nuclei_as_3d_objects_score_at_least_as_well_as_the_planes_in_2d(builtin):
    """The goal of issue 15: touching nuclei (a layer of cells on a coverslip), the builtin 2D
    model plane by plane, stitched: 3D F1@0.5 >= the per-plane 2D F1, every nucleus one label."""
    image, truth = render_nuclei_3d(np.random.default_rng(1), (16, 128, 128))
    planes = Predictor.from_checkpoint(builtin_model_path("nuclei"), device="cpu", precision="32",
                                       stitch="off").predict(image, "ZYX")
    stitched = stitch_volume(planes)  # what the default (stitch="auto") makes of the same planes
    assert np.array_equal(stitched[:2], builtin.predict(image[:2], "ZYX"))
    f1_2d = aggregate_scores([segmentation_scores(planes[z], truth[z]) for z in range(len(truth))])["f1"]
    f1_3d = segmentation_scores(stitched, truth)["f1"]
    print(f"3D F1 {f1_3d:.3f}, per-plane 2D F1 {f1_2d:.3f}")
    assert f1_3d >= f1_2d and f1_3d >= 0.9, (f1_3d, f1_2d)
    for nucleus in range(1, int(truth.max()) + 1):
        ids, counts = np.unique(stitched[(truth == nucleus) & (stitched > 0)], return_counts=True)
        assert len(ids) and counts.max() >= 0.9 * counts.sum(), (nucleus, ids, counts)


@pytest.mark.slow
def test_synth_infer_and_evaluate_a_z_stack_in_3d(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["synth", "nuclei3d", "--output", str(data), "--n", "1", "--size", "64", "--seed", "3"]) == 0
    image = read_image(data / "images" / "nuclei3d_0000.tif")
    assert image.axes == "ZYX" and image.calibration == CALIBRATION
    with tifffile.TiffFile(data / "images" / "nuclei3d_0000.tif") as tif:
        assert tif.is_imagej and tif.imagej_metadata["spacing"] == 1.0
    out = tmp_path / "out"
    assert main(["infer", str(data / "images"), "--model", "builtin:nuclei", "--output", str(out), "--device", "cpu"]) == 0
    labels = read_image(out / "nuclei3d_0000.tif")
    assert labels.axes == "ZYX" and labels.calibration == CALIBRATION
    assert main(["infer", str(data / "images"), "--model", "builtin:nuclei", "--output", str(tmp_path / "zarr"),
                 "--device", "cpu", "--name", "{stem}.ome.zarr"]) == 0
    np.testing.assert_array_equal(read_image(tmp_path / "zarr" / "nuclei3d_0000.ome.zarr").data, labels.data)
    report = tmp_path / "evaluation"
    assert main(["evaluate", "--model", "builtin:nuclei", "--input", str(data / "images"), "--target",
                 str(data / "masks"), "--device", "cpu", "--output", str(report)]) == 0
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["summary"]["model"]["f1"] >= 0.8 and metrics["summary"]["model"]["n_images"] == 1
    assert (report / "figure.png").is_file()


def test_a_2d_mask_for_a_stack_is_one_line(tmp_path, capsys):
    image, truth = render_nuclei_3d(np.random.default_rng(0), (4, 64, 64))
    write_image(tmp_path / "images" / "a.tif", image, axes="ZYX")
    write_image(tmp_path / "masks" / "a.tif", truth[0])
    code = main(["evaluate", "--model", "builtin:nuclei", "--input", str(tmp_path / "images"), "--target",
                 str(tmp_path / "masks"), "--device", "cpu", "--output", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "a mask must be 3D labels, got shape (64, 64)" in err[0]


def test_generated_stacks_are_reproducible_with_one_connected_3d_label_per_nucleus():
    from skimage.measure import label as connected

    image, labels = render_nuclei_3d(np.random.default_rng(5), (12, 64, 72))
    again, labels_again = render_nuclei_3d(np.random.default_rng(5), (12, 64, 72))
    assert image.shape == labels.shape == (12, 64, 72) and image.dtype == labels.dtype == np.uint16
    assert np.array_equal(image, again) and np.array_equal(labels, labels_again)
    n = int(labels.max())
    assert set(np.unique(labels).tolist()) == set(range(n + 1)) and n >= 3
    assert int(connected(labels, background=0, connectivity=1).max()) == n
