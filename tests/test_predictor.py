"""The Python API on arrays: any size, stacks, channel checks."""

import numpy as np
import pytest

from img2img.errors import UserError
from img2img.inference import Predictor

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def predictor(trained):
    return Predictor.from_checkpoint(trained / "checkpoints" / "best.ckpt", device="cpu")


@pytest.mark.parametrize("shape", [(1000, 777), (33, 21), (96, 96)])
def test_any_size_gives_same_size_labels(predictor, shape):
    image = np.random.default_rng(0).integers(0, 4000, shape).astype(np.uint16)
    labels = predictor.predict(image)
    assert labels.shape == shape and labels.dtype == np.uint16


def test_stack_is_processed_plane_by_plane(predictor):
    rng = np.random.default_rng(1)
    plane = rng.integers(0, 4000, (64, 80)).astype(np.uint16)
    stack = np.stack([plane, rng.integers(0, 4000, (64, 80)).astype(np.uint16)])
    labels = predictor.predict(stack, axes="ZYX")
    assert labels.shape == (2, 64, 80)
    np.testing.assert_array_equal(labels[0], predictor.predict(plane))  # eval mode: deterministic
    assert predictor.predict_probabilities(stack, axes="ZYX").shape == (2, 2, 64, 80)


def test_wrong_channel_count_is_a_clear_error(predictor):
    with pytest.raises(UserError, match=r"3 channel\(s\).*model takes 1"):
        predictor.predict(np.zeros((64, 64, 3), np.uint8), axes="YXC")
