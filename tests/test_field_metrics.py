"""The field's instance-segmentation scores (accuracy, F1 over IoU 0.5..0.95, DSB 2018 score,
panoptic quality), their aggregation over images and groups, and `img2img evaluate` reporting them."""

import csv
import json

import cv2
import numpy as np
import pytest
import tifffile

from img2img.cli import main
from img2img.errors import UserError
from img2img.evaluation.evaluate import evaluate_segmentation, spread_by_f1
from img2img.evaluation.groups import read_groups
from img2img.segmentation.metrics import (
    IOU_THRESHOLDS, aggregate_by_group, aggregate_scores, match_instances, segmentation_scores, threshold_key,
)
from img2img.inference.predictor import Predictor
from tests.test_baselines import nuclei
from tests.test_segmentation_metrics import squares

LOW = ["0.5"]
MIDDLE = ["0.55", "0.6", "0.65", "0.7"]
HIGH = ["0.75", "0.8", "0.85", "0.9", "0.95"]


def four_objects():
    """True A, B, C, E (10x10 squares); predicted A exactly (IoU 1), the first 72 pixels of B
    (IoU 0.72), the first 52 of C (IoU 0.52), and D where nothing is (a false positive)."""
    true = squares((40, 40), [(0, 10, 0, 10), (0, 10, 20, 30), (20, 30, 0, 10), (20, 30, 20, 30)])
    pred = squares((40, 40), [(0, 10, 0, 10), (32, 40, 32, 40)], ids=[1, 4])
    for label, (r0, c0), n in ((2, (0, 20), 72), (3, (20, 0), 52)):
        block = pred[r0:r0 + 10, c0:c0 + 10].reshape(-1).copy()
        block[:n] = label
        pred[r0:r0 + 10, c0:c0 + 10] = block.reshape(10, 10)
    return pred, true


def test_thresholds_are_the_fields_ten():
    assert IOU_THRESHOLDS == (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
    assert [threshold_key(t) for t in IOU_THRESHOLDS] == LOW + MIDDLE + HIGH


def test_scores_at_every_threshold_dsb_and_panoptic_quality_by_hand():
    scores = segmentation_scores(*four_objects())
    # IoU 0.5: A, B, C matched; D false; E missed.
    assert (scores["tp"], scores["fp"], scores["fn"]) == (3, 1, 1)
    assert scores["accuracy"] == pytest.approx(3 / 5)
    by_t = scores["thresholds"]
    for keys, tp, f1, accuracy in ((LOW, 3, 3 / 4, 3 / 5), (MIDDLE, 2, 4 / 8, 2 / 6), (HIGH, 1, 2 / 8, 1 / 7)):
        for key in keys:
            assert (by_t[key]["tp"], by_t[key]["fp"], by_t[key]["fn"]) == (tp, 4 - tp, 4 - tp), key
            assert by_t[key]["precision"] == pytest.approx(tp / 4)
            assert by_t[key]["recall"] == pytest.approx(tp / 4)
            assert by_t[key]["f1"] == pytest.approx(f1)
            assert by_t[key]["accuracy"] == pytest.approx(accuracy)
    assert scores["dsb_score"] == pytest.approx((3 / 5 + 4 / 6 * 2 + 5 / 7) / 10)
    assert scores["sq"] == pytest.approx((1 + 0.72 + 0.52) / 3)
    assert scores["rq"] == pytest.approx(3 / 4)
    assert scores["pq"] == pytest.approx(2.24 / (3 + 1 / 2 + 1 / 2))  # sum IoU / (TP + FP/2 + FN/2)


def test_another_matching_threshold_moves_the_headline_scores_only():
    pred, true = four_objects()
    strict = segmentation_scores(pred, true, iou_threshold=0.75)
    assert (strict["tp"], strict["fp"], strict["fn"]) == (1, 3, 3)
    assert strict["f1"] == pytest.approx(2 / 8) and strict["accuracy"] == pytest.approx(1 / 7)
    default = segmentation_scores(pred, true)
    for key in ("thresholds", "dsb_score", "pq", "sq", "rq"):
        assert strict[key] == default[key]


def random_labels(rng, shape=(64, 64), n=14):
    """Overlapping random rectangles (later ones on top) and a jittered copy of them with a few
    extra and a few missing, so predicted IoUs spread over 0..1 and some objects are cut up."""
    boxes = []
    for _ in range(n):
        r, c = rng.integers(0, shape[0] - 6), rng.integers(0, shape[1] - 6)
        boxes.append((r, r + rng.integers(4, 16), c, c + rng.integers(4, 16)))
    jittered = [tuple(int(v) for v in np.clip(np.array(b) + rng.integers(-3, 4, 4), 0, shape[0])) for b in boxes]
    jittered = [b for b in jittered if b[1] > b[0] and b[3] > b[2] and rng.random() > 0.15]
    jittered += [(r, r + 6, c, c + 6) for r, c in rng.integers(0, shape[0] - 6, (2, 2))]
    return squares(shape, jittered, ids=list(rng.permutation(1000)[: len(jittered)] + 1)), squares(shape, boxes)


@pytest.mark.parametrize("seed", range(8))
def test_one_matching_at_half_equals_a_fresh_matching_at_each_threshold(seed):
    pred, true = random_labels(np.random.default_rng(seed))
    by_t = segmentation_scores(pred, true)["thresholds"]
    seen_tp = set()
    for t in IOU_THRESHOLDS:
        fresh = match_instances(pred, true, iou_threshold=t)
        assert (by_t[threshold_key(t)]["tp"], by_t[threshold_key(t)]["fp"], by_t[threshold_key(t)]["fn"]) == (
            fresh.tp, fresh.fp, fresh.fn), t
        seen_tp.add(fresh.tp)
    assert len(seen_tp) > 2  # the images really do have IoUs spread over the thresholds


def test_both_empty_is_perfect_and_one_empty_scores_zero():
    empty = np.zeros((8, 8), dtype=np.uint16)
    full = squares((8, 8), [(0, 4, 0, 4), (5, 8, 5, 8)])
    both = segmentation_scores(empty, empty)
    assert both["dsb_score"] == both["pq"] == both["sq"] == both["rq"] == both["accuracy"] == 1.0
    for s in both["thresholds"].values():
        assert s["accuracy"] == s["f1"] == 1.0 and s["tp"] == s["fp"] == s["fn"] == 0
    for pred, true, (fp, fn) in ((empty, full, (0, 2)), (full, empty, (2, 0))):
        scores = segmentation_scores(pred, true)
        assert scores["dsb_score"] == scores["pq"] == scores["sq"] == scores["rq"] == scores["accuracy"] == 0.0
        for s in scores["thresholds"].values():
            assert (s["tp"], s["fp"], s["fn"]) == (0, fp, fn)
            assert s["precision"] == s["recall"] == s["f1"] == s["accuracy"] == 0.0


def test_aggregation_pools_counts_and_averages_the_dsb_score_over_images():
    first = segmentation_scores(*four_objects())
    single = squares((20, 20), [(2, 12, 2, 12)])
    second = segmentation_scores(single, single)  # one object, found exactly
    total = aggregate_scores([first, second])
    # Pooled at 0.5: TP 4, FP 1, FN 1; at 0.75: TP 2, FP 3, FN 3.
    assert total["thresholds"]["0.5"]["f1"] == pytest.approx(8 / 10) == total["f1"]
    assert total["thresholds"]["0.5"]["accuracy"] == pytest.approx(4 / 6) == total["accuracy"]
    assert total["thresholds"]["0.75"]["f1"] == pytest.approx(4 / 10)
    assert total["thresholds"]["0.75"]["accuracy"] == pytest.approx(2 / 8)
    assert total["dsb_score"] == pytest.approx((first["dsb_score"] + 1.0) / 2)
    assert total["sq"] == pytest.approx(3.24 / 4) and total["rq"] == pytest.approx(0.8)
    assert total["pq"] == pytest.approx(3.24 / (4 + 1 / 2 + 1 / 2))
    assert total["n_images"] == 2


def test_aggregation_per_group_with_unlisted_images_in_other():
    pred, true = four_objects()
    single = squares((20, 20), [(2, 12, 2, 12)])
    rows = [
        {"name": "a", **segmentation_scores(pred, true)},
        {"name": "b", **segmentation_scores(single, single)},
        {"name": "c", **segmentation_scores(np.zeros_like(single), single)},
    ]
    by_group = aggregate_by_group(rows, {"a": "fluo", "b": "fluo", "z": "histo"})
    assert list(by_group) == ["fluo", "other"]
    assert by_group["fluo"]["n_images"] == 2 and by_group["other"]["n_images"] == 1
    assert by_group["fluo"]["f1"] == pytest.approx(8 / 10)
    assert by_group["other"]["f1"] == 0.0 and by_group["other"]["dsb_score"] == 0.0
    assert aggregate_by_group(rows, {}, default="all")["all"]["n_images"] == 3


def test_examples_spread_from_worst_to_best():
    rows = [{"name": n, "model": {"f1": f}} for n, f in zip("abcde", (0.1, 0.9, 0.5, 0.3, 0.7))]
    assert [r["name"] for r in spread_by_f1(rows, 3)] == ["a", "c", "b"]
    assert [r["name"] for r in spread_by_f1(rows, 8)] == ["a", "d", "c", "e", "b"]
    assert spread_by_f1([], 8) == []


def test_groups_csv_columns_and_errors(tmp_path):
    good = tmp_path / "g.csv"
    good.write_text("name,split,group\nimg_0,test,fluo\nimg_1,test,histo\n")
    assert read_groups(good) == {"img_0": "fluo", "img_1": "histo"}
    bad = tmp_path / "bad.csv"
    bad.write_text("file,kind\nimg_0,fluo\n")
    with pytest.raises(UserError, match="bad.csv: needs a column id"):
        read_groups(bad)
    clash = tmp_path / "clash.csv"
    clash.write_text("id,modality\nimg_0,fluo\nimg_0,histo\n")
    with pytest.raises(UserError, match="one row per image"):
        read_groups(clash)


def write_pairs(folder):
    """Three bright-on-dark 16-bit gray images and one dark-on-light RGB PNG (H&E-like), with masks."""
    (folder / "images").mkdir()
    (folder / "masks").mkdir()
    for k in range(3):
        image, labels = nuclei(seed=k)
        tifffile.imwrite(folder / "images" / f"fluo_{k}.tif", np.round(np.clip(image, 0, 1) * 60000).astype(np.uint16))
        tifffile.imwrite(folder / "masks" / f"fluo_{k}.tif", labels)
    image, labels = nuclei(seed=5)
    stained = np.clip(1 - image, 0, 1)[..., None] * np.array([0.95, 0.6, 0.85])  # purple nuclei on pink
    cv2.imwrite(str(folder / "images" / "he_0.png"), np.round(stained[..., ::-1] * 255).astype(np.uint8))
    tifffile.imwrite(folder / "masks" / "he_0.tif", labels)


def test_evaluate_reports_the_fields_scores_per_group(segmenter, tmp_path, capsys):
    write_pairs(tmp_path)
    groups = tmp_path / "groups.csv"
    groups.write_text("id,modality\nfluo_0,fluorescence\nfluo_1,fluorescence\nhe_0,histology\n")
    out = tmp_path / "eval"
    code = main(["evaluate", "--model", str(segmenter), "--input", str(tmp_path / "images"), "--target",
                 str(tmp_path / "masks"), "--output", str(out), "--device", "cpu", "--channels", "0",
                 "--diameter", "auto", "--groups", str(groups)])
    assert code == 0, capsys.readouterr().err
    console = capsys.readouterr().out
    assert "fluorescence (2): DSB score" in console and "other (1): F1 @IoU0.5" in console

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["objects"] == "auto" and metrics["iou_thresholds"] == list(IOU_THRESHOLDS)
    sizes = {group: scores["model"]["n_images"] for group, scores in metrics["by_group"].items()}
    assert sizes == {"fluorescence": 2, "histology": 1, "other": 1}
    assert set(metrics["summary"]["model"]["thresholds"]) == {threshold_key(t) for t in IOU_THRESHOLDS}
    # The baseline decides polarity per image: bright nuclei in the TIFFs, dark ones in the PNG.
    assert metrics["by_group"]["histology"]["baseline"]["f1"] == 1.0
    assert metrics["summary"]["baseline"]["f1"] == 1.0

    with (out / "per_image.csv").open() as f:
        rows = {r["name"]: r for r in csv.DictReader(f)}
    assert {n: r["group"] for n, r in rows.items()} == {
        "fluo_0": "fluorescence", "fluo_1": "fluorescence", "fluo_2": "other", "he_0": "histology"}
    assert {"model_f1", "model_dsb_score", "model_pq", "baseline_f1@0.75", "baseline_tp"} <= set(rows["he_0"])
    assert rows["he_0"]["baseline_f1"] == "1.0000" and rows["he_0"]["baseline_tp"] == "5"

    report = (out / "report.md").read_text()
    for text in ("| DSB score |", "| PQ |", "| F1 @IoU0.9 |", "## By IoU threshold", "| 0.95 |",
                 "## Per group", "| histology | 1 |", "## Worst images by model F1"):
        assert text in report, text
    assert (out / "figure.png").stat().st_size > 1000


def test_examples_beyond_the_kept_ones_are_segmented_again(segmenter, tmp_path):
    write_pairs(tmp_path)
    predictor = Predictor.from_checkpoint(segmenter, device="cpu", channels=[0])
    evaluation = evaluate_segmentation(predictor, tmp_path / "images", tmp_path / "masks", n_examples=2, progress=False)
    assert len(evaluation.per_image) == 4
    worst, best = spread_by_f1(evaluation.per_image, 2)
    assert [e.row for e in evaluation.examples] == [worst, best]
    again = evaluate_segmentation(predictor, tmp_path / "images", tmp_path / "masks", n_examples=8, progress=False)
    kept = {e.name: e for e in again.examples}
    for example in evaluation.examples:
        assert np.array_equal(example.prediction, kept[example.name].prediction)
        assert np.array_equal(example.baseline, kept[example.name].baseline)


def test_evaluate_options_are_checked(segmenter, translator, tmp_path, capsys):
    write_pairs(tmp_path)
    args = ["evaluate", "--model", str(segmenter), "--input", str(tmp_path / "images"), "--target",
            str(tmp_path / "masks"), "--output", str(tmp_path / "eval"), "--device", "cpu", "--channels", "0"]
    unrelated = tmp_path / "groups.csv"
    unrelated.write_text("id,modality\nsomething_else,fluorescence\n")
    assert main(args + ["--groups", str(unrelated)]) == 2
    assert "none of the 1 names" in capsys.readouterr().err
    assert main(["evaluate", "--model", str(translator), "--input", str(tmp_path / "images"),
                 "--target", str(tmp_path / "images"), "--objects", "dark"]) == 2
    assert "--groups and --objects are for segmentation models" in capsys.readouterr().err
