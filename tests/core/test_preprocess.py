"""core.preprocess: a drawing -> an MNIST-style 28x28 digit, checked against the real MNIST."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from desktop_bp.core.data import load_mnist
from desktop_bp.core.preprocess import (
    LECUN_OPTIONS,
    MNIST_CENTER,
    MNIST_SKEW_RANGE,
    MNIST_STROKE_RANGE,
    MNIST_STROKE_WIDTH,
    PreprocessOptions,
    center_of_mass,
    dilate,
    label_components,
    lecun_preprocess,
    remove_specks,
    resample,
    resample_matrix,
    skew,
    stroke_width,
    to_mnist,
)

SIDE = 280


def draw(polylines: list[list[tuple[float, float]]], width: float, side: int = SIDE):
    """Anti-aliased round-pen strokes on a black (side, side) float canvas; points in unit
    coordinates (x right, y down)."""
    yy, xx = np.mgrid[0:side, 0:side] + 0.5
    distance = np.full((side, side), np.inf)
    for line in polylines:
        pts = np.asarray(line, dtype=float) * side
        if len(pts) == 1:
            pts = np.vstack([pts, pts])
        for (ax, ay), (bx, by) in pairwise(pts):
            dx, dy = bx - ax, by - ay
            length2 = dx * dx + dy * dy
            t = 0.0 if length2 == 0 else np.clip(((xx - ax) * dx + (yy - ay) * dy) / length2, 0, 1)
            distance = np.minimum(distance, np.hypot(xx - ax - t * dx, yy - ay - t * dy))
    return np.clip(width / 2 - distance + 0.5, 0.0, 1.0)


SEVEN = [[(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)]]
TWO = [[(0.32, 0.32), (0.42, 0.2), (0.58, 0.2), (0.66, 0.32), (0.6, 0.46), (0.33, 0.8), (0.7, 0.8)]]
FOUR = [[(0.55, 0.15), (0.3, 0.6), (0.72, 0.6)], [(0.6, 0.35), (0.6, 0.88)]]
ONE = [[(0.5, 0.15), (0.48, 0.85)]]
DIGITS = {"7": SEVEN, "2": TWO, "4": FOUR, "1": ONE}


@pytest.fixture(scope="module")
def mnist_train():
    (x, t), _ = load_mnist()
    return x.reshape(-1, 28, 28).astype(np.float64), t


# -- the MNIST conventions the constants come from ------------------------------------------
def test_mnist_centre_of_mass_is_index_14_by_whole_pixels(mnist_train):
    x, _ = mnist_train
    com = np.array([center_of_mass(im) for im in x[:3000]])
    # Centred on index 14.0 (not 13.5), spread like a uniform +-0.5 px: LeCun's integer shift.
    np.testing.assert_allclose(com.mean(axis=0), [MNIST_CENTER, MNIST_CENTER], atol=0.03)
    np.testing.assert_allclose(com.std(axis=0), [12**-0.5] * 2, atol=0.03)
    assert np.abs(com - MNIST_CENTER).max() <= 0.55


def test_mnist_stroke_width_and_skew_constants(mnist_train):
    x, _ = mnist_train
    widths = [stroke_width(im) for im in x[:3000]]
    skews = [skew(im) for im in x[:3000]]
    assert np.median(widths) == pytest.approx(MNIST_STROKE_WIDTH, abs=0.05)
    np.testing.assert_allclose(np.percentile(widths, [25, 75]), MNIST_STROKE_RANGE, atol=0.05)
    np.testing.assert_allclose(np.percentile(skews, [10, 90]), MNIST_SKEW_RANGE, atol=0.04)


def test_mnist_digits_have_a_20_pixel_longer_side(mnist_train):
    x, _ = mnist_train
    sides = []
    for im in x[:500]:
        rows = np.flatnonzero(im.max(axis=1) > 0)
        cols = np.flatnonzero(im.max(axis=0) > 0)
        sides.append(max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1)
    assert np.median(sides) == 20


# -- the pipeline ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(DIGITS))
def test_output_format_and_centre_of_mass(name):
    result = to_mnist(draw(DIGITS[name], 22))
    assert not result.empty
    assert result.image.shape == (28, 28)
    assert result.image.dtype == np.float32
    assert result.image.min() >= 0.0 and result.image.max() <= 1.0
    cy, cx = center_of_mass(result.image)
    assert abs(cy - MNIST_CENTER) < 0.5 and abs(cx - MNIST_CENTER) < 0.5
    # Sub-pixel placement does much better than the half pixel LeCun's rounding allows.
    assert abs(cy - MNIST_CENTER) < 0.1 and abs(cx - MNIST_CENTER) < 0.1


@pytest.mark.parametrize("name", sorted(DIGITS))
def test_lecun_centre_of_mass_within_half_a_pixel(name):
    image = lecun_preprocess(draw(DIGITS[name], 22))
    cy, cx = center_of_mass(image)
    assert abs(cy - MNIST_CENTER) <= 0.5 and abs(cx - MNIST_CENTER) <= 0.5


def _extent(image: np.ndarray, level: float) -> tuple[int, int]:
    rows = np.flatnonzero(image.max(axis=1) > level)
    cols = np.flatnonzero(image.max(axis=0) > level)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


@pytest.mark.parametrize("name", sorted(DIGITS))
def test_longer_side_is_20_pixels(name):
    canvas = draw(DIGITS[name], 22)
    # Box corners on whole pixels (LeCun's alignment): exactly 20 pixels hold ink.
    exact = to_mnist(canvas, options=PreprocessOptions(subpixel_center=False)).image
    assert max(_extent(exact, 0.0)) == 20
    assert max(_extent(lecun_preprocess(canvas), 0.0)) == 20
    # Sub-pixel placement: a 20 px span may straddle 21 pixels, its ends partly covered.
    image = to_mnist(canvas).image
    assert max(_extent(image, 0.0)) in (20, 21)
    height, width = _extent(image, 0.0)
    assert min(height, width) < 20 or name in ("2",)


def test_aspect_ratio_is_kept():
    image = to_mnist(draw(ONE, 22), options=LECUN_OPTIONS).image
    height, width = _extent(image, 0.0)
    assert height == 20
    assert width <= 5  # a "1" stays a narrow bar, not stretched to a square


def test_dark_ink_on_light_paper_gives_the_same_digit():
    light_on_dark = draw(SEVEN, 22)
    dark_on_light = 1.0 - light_on_dark
    a = to_mnist(light_on_dark).image
    b = to_mnist(dark_on_light, ink_is_dark=True).image
    np.testing.assert_allclose(a, b, atol=1e-6)
    as_uint8 = np.round(dark_on_light * 255).astype(np.uint8)
    c = to_mnist(as_uint8, ink_is_dark=True).image
    np.testing.assert_allclose(a, c, atol=0.02)
    # Grey paper (not white) and slightly grey ink work too: the paper level is subtracted.
    grey = 0.85 - 0.7 * light_on_dark
    d = to_mnist(grey, ink_is_dark=True).image
    np.testing.assert_allclose(a, d, atol=0.05)


def test_stray_specks_are_ignored():
    clean = draw(SEVEN, 22)
    specks = np.maximum(clean, draw([[(0.92, 0.93)], [(0.06, 0.1)], [(0.9, 0.05)]], 14))
    assert remove_specks(specks).sum() == pytest.approx(remove_specks(clean).sum())
    np.testing.assert_allclose(to_mnist(specks).image, to_mnist(clean).image, atol=1e-6)
    # LeCun's plain recipe is thrown off: the speck stretches its bounding box.
    assert np.abs(lecun_preprocess(specks) - lecun_preprocess(clean)).max() > 0.5


def test_a_second_stroke_is_not_a_speck():
    four = draw(FOUR, 22)
    only_first = draw(FOUR[:1], 22)
    assert not np.allclose(to_mnist(four).image, to_mnist(only_first).image, atol=0.1)
    assert remove_specks(four).sum() == pytest.approx(four.sum())


def test_faint_noise_and_empty_images_are_empty():
    for image in (np.zeros((SIDE, SIDE)), np.zeros((SIDE, SIDE), np.uint8)):
        result = to_mnist(image)
        assert result.empty
        assert result.image.shape == (28, 28) and not result.image.any()
        assert lecun_preprocess(image) is None
    faint = np.random.default_rng(0).random((SIDE, SIDE)) * 0.2
    assert to_mnist(faint).empty
    assert to_mnist(np.ones((SIDE, SIDE)), ink_is_dark=True).empty  # blank white paper


def test_thin_and_thick_pens_give_mnist_like_ink():
    thin, thick = draw(TWO, 7), draw(TWO, 34)
    plain = PreprocessOptions(normalize_thickness=False)
    raw_a, raw_b = to_mnist(thin, options=plain), to_mnist(thick, options=plain)
    assert raw_a.stroke_width[0] < 1.5 and raw_b.stroke_width[0] > 3.0
    assert raw_b.image.sum() > 2.5 * raw_a.image.sum()  # unnormalised: 2.5x the ink or more
    # To MNIST's median width: the same ink, whatever the pen.
    exact = PreprocessOptions(stroke_range=None)
    a, b = to_mnist(thin, options=exact), to_mnist(thick, options=exact)
    assert a.image.sum() == pytest.approx(b.image.sum(), rel=0.15)
    for result in (a, b):
        assert result.stroke_width[1] == pytest.approx(MNIST_STROKE_WIDTH, abs=0.4)
    # The default moves a width only into MNIST's interquartile range: thin and thick pens
    # land on its two ends, with ink masses far closer than before.
    a, b = to_mnist(thin), to_mnist(thick)
    assert a.stroke_width[1] == pytest.approx(MNIST_STROKE_RANGE[0], abs=0.4)
    assert b.stroke_width[1] == pytest.approx(MNIST_STROKE_RANGE[1], abs=0.4)
    assert 1.0 < b.image.sum() / a.image.sum() < 1.6


def test_typical_mnist_thickness_is_left_alone():
    # A pen drawn at MNIST's own width needs no dilation or erosion.
    canvas = draw(SEVEN, 0.12 * 0.65 * SIDE)
    result = to_mnist(canvas)
    before, after = result.stroke_width
    assert MNIST_STROKE_RANGE[0] < before < MNIST_STROKE_RANGE[1]
    assert after == pytest.approx(before, abs=0.02)
    unchanged = to_mnist(canvas, options=PreprocessOptions(normalize_thickness=False))
    np.testing.assert_allclose(result.image, unchanged.image, atol=1e-6)


def test_deskew_shears_only_unusual_slants():
    leaning = draw([[(0.8, 0.1), (0.2, 0.9)]], 22)  # a "1" leaning far right: skew -0.75
    assert skew(leaning) < MNIST_SKEW_RANGE[0] - 0.2
    deskewed = to_mnist(leaning)
    assert skew(deskewed.image) == pytest.approx(MNIST_SKEW_RANGE[0], abs=0.08)
    upright = to_mnist(leaning, options=PreprocessOptions(skew_range=None))
    assert abs(skew(upright.image)) < 0.08
    kept = to_mnist(leaning, options=PreprocessOptions(deskew=False))
    assert skew(kept.image) < MNIST_SKEW_RANGE[0] - 0.2
    # A slant MNIST digits often have is not touched.
    mild = draw([[(0.55, 0.1), (0.45, 0.9)]], 22)
    assert MNIST_SKEW_RANGE[0] < skew(mild) < MNIST_SKEW_RANGE[1]
    np.testing.assert_allclose(
        to_mnist(mild).image,
        to_mnist(mild, options=PreprocessOptions(deskew=False)).image,
        atol=1e-6,
    )


def test_stages_are_recorded_in_order():
    result = to_mnist(draw(SEVEN, 22), keep_stages=True)
    assert list(result.stages) == ["input", "cropped", "deskewed", "thickness", "scaled", "mnist"]
    np.testing.assert_array_equal(result.stages["mnist"], result.image)
    assert result.stages["input"].shape == (SIDE, SIDE)
    assert max(result.stages["scaled"].shape) == 20
    assert to_mnist(draw(SEVEN, 22)).stages == {}


def test_real_mnist_digits_survive_the_pipeline(mnist_train):
    """An MNIST digit, enlarged to canvas size, comes back close to itself."""
    x, _ = mnist_train
    errors = []
    for im in x[:40]:
        big = np.kron(im, np.ones((10, 10)))
        errors.append(np.abs(to_mnist(big).image - im).mean())
    assert np.median(errors) < 0.06


def test_any_canvas_size_gives_the_same_digit():
    small = to_mnist(draw(SEVEN, 22 * 140 / SIDE, side=140)).image
    large = to_mnist(draw(SEVEN, 22 * 560 / SIDE, side=560)).image
    np.testing.assert_allclose(small, large, atol=0.12)
    assert np.abs(small - large).mean() < 0.02


# -- building blocks ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape_in", "shape_out", "scale", "offset"),
    [
        ((200, 130), (80, 52), 0.4, (0.0, 0.0)),
        ((104, 76), (28, 28), 0.25, (3.3, -2.7)),
        ((28, 28), (80, 80), 80 / 28, (0.0, 0.0)),
        ((20, 14), (28, 28), 1.0, (4.0, 7.0)),
        ((10, 5), (28, 28), 2.0, (-1.5, 3.2)),
    ],
)
def test_fast_resample_equals_the_matrix_form(shape_in, shape_out, scale, offset):
    image = np.random.default_rng(1).random(shape_in)
    rows = resample_matrix(shape_in[0], shape_out[0], scale, offset[0])
    cols = resample_matrix(shape_in[1], shape_out[1], scale, offset[1])
    np.testing.assert_allclose(resample(image, shape_out, scale, offset), rows @ image @ cols.T)


def test_area_averaging_keeps_the_ink_mass():
    image = np.random.default_rng(2).random((100, 60))
    out = resample(image, (25, 15), 0.25, (0.0, 0.0))
    assert out.sum() * 16 == pytest.approx(image.sum())


def test_components_are_8_connected():
    mask = np.zeros((6, 8), bool)
    mask[0, 0] = mask[1, 1] = True  # diagonal neighbours: one component
    mask[4:6, 5:8] = True
    mask[0, 5] = True
    labels, count = label_components(mask)
    assert count == 3
    assert labels[0, 0] == labels[1, 1] != 0
    assert len({labels[0, 0], labels[4, 5], labels[0, 5]}) == 3
    assert (labels > 0).sum() == mask.sum()


def test_dilation_and_erosion_change_width_by_twice_the_radius():
    line = draw([[(0.1, 0.5), (0.9, 0.5)]], 20)
    assert stroke_width(line) == pytest.approx(20, rel=0.12)
    assert stroke_width(dilate(line, 4.0)) == pytest.approx(28, rel=0.12)
    assert stroke_width(dilate(line, -4.0)) == pytest.approx(12, rel=0.15)
