"""Training-time augmentation: small random affine warps and stroke-thickness changes.

A network trained on MNIST digits learns those exact pixel positions; people draw their
digits a little rotated, shifted, bigger, thinner. Showing the training images slightly warped
teaches the tolerance the drawing pad needs. :func:`augment_batch` warps a batch; the trainer
does not call it per step but through :mod:`desktop_bp.core.augment_pool`, which keeps the
warping in a worker process (``TrainConfig.augment``).

The default ranges were chosen on real pen-drawn digits replayed on the pad (the 600 UJI
digits, ``benchmarks/handwriting_accuracy.py``), with 784-100-10, 20,000 steps, lr 0.2 and a
step decay, two seeds each: ±15° rotation, shear ±0.25 and zoom 0.75-1.2 read 0.960-0.967
(worst digit 0.88-0.90) where the earlier ±12°, ±0.15 and 0.85-1.15 read 0.962-0.967
(0.87-0.88). Measured and left off: elastic distortion 1.0 px RMS (0.947-0.953), shifts of
±3 px (0.938-0.948), a per-axis zoom over MNIST's aspect spread (0.957-0.962), wider
thickness jitter (0.958-0.967).

How: every output pixel is mapped back through its image's inverse affine transform and read
from the source by bilinear interpolation — one vectorised gather over the whole batch, on a
pixel grid computed once at import. numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

SIDE = 28
PIXELS = SIDE * SIDE
# Transforms pivot on MNIST's centre of mass (index 14.0; see core/preprocess.py), so a
# rotation or scaling leaves the digit centred the way the network has seen it.
_PIVOT = 14.0
# The output grid in index coordinates relative to the pivot, homogeneous, shape (3, 784):
# rows (y - pivot, x - pivot, 1). Computed once.
_GRID = np.vstack(
    [
        *(g.ravel() - _PIVOT for g in np.meshgrid(np.arange(SIDE), np.arange(SIDE), indexing="ij")),
        np.ones(PIXELS),
    ]
).astype(np.float32)
# The elastic field: Gaussian noise on a coarse grid of control points (10 x 10, ~3.9 px
# apart), spread over the image by Gaussian weights (sigma 2.6 px) — a smooth field like
# Simard's blurred per-pixel noise (correlation 0.72 at 3 px, 0.40 at 5 px, 0.10 at 8 px;
# theirs 0.57, 0.21, 0.02), for two small products per image instead of a 28x28 convolution.
_CONTROL = np.linspace(-3.5, SIDE + 3.5, 10)
_SPREAD = np.exp(-0.5 * ((np.arange(SIDE)[:, None] - _CONTROL[None, :]) / 2.6) ** 2)
_SPREAD /= _SPREAD.sum(axis=1, keepdims=True)
# Noise of standard deviation 1 at the control points gives this RMS displacement per axis;
# dividing by it calibrates ``elastic`` in pixels.
_SPREAD_RMS = float(np.sqrt(np.mean(np.outer((_SPREAD**2).sum(1), (_SPREAD**2).sum(1)))))
_SPREAD = _SPREAD.astype(np.float32)
# Images are read from a copy with a one-pixel zero border (30x30), so a neighbour just off the
# image reads 0 and indices never need a bounds test.
_PADDED = SIDE + 2


#: 10th and 90th percentiles of the embedded MNIST training digits' box aspect ratio (width /
#: height of the ink above 0.05) divided by the median aspect of their own class.
MNIST_ASPECT_SPREAD: tuple[float, float] = (0.75, 1.29)


@dataclass(frozen=True)
class AugmentParams:
    """Ranges of the random transforms, each drawn uniformly and independently per image.

    max_shift: translation in pixels along each axis (+-).
    max_rotation: rotation in degrees (+-).
    scale: (smallest, largest) zoom factor.
    scale_per_axis: draw the zoom of rows and columns independently (as Keras'
        ``zoom_range`` does), so digits also get narrower or wider, not only bigger.
    max_shear: horizontal shear, columns per row (+-); handwriting slants.
    thickness: (min, max) stroke change; positive blends towards a one-pixel dilation
        (thicker), negative towards an erosion (thinner); 0 leaves strokes alone.
    aspect: (min, max) extra zoom of the columns alone (width / height change); off by
        default. :data:`MNIST_ASPECT_SPREAD` is MNIST writers' own spread of widths.
    elastic: root-mean-square displacement in pixels of a smooth random displacement field
        (Simard, Steinkraus & Platt 2003, "Best practices for convolutional neural networks
        applied to visual document analysis"): the wobble of a hand, which no affine map
        makes. Their alpha = 34, sigma = 4 on MNIST moves pixels by ~1.4 px RMS.
    """

    max_shift: float = 2.0
    max_rotation: float = 15.0
    scale: tuple[float, float] = (0.75, 1.2)
    scale_per_axis: bool = False
    max_shear: float = 0.25
    thickness: tuple[float, float] = (-0.4, 0.6)
    aspect: tuple[float, float] = (1.0, 1.0)
    elastic: float = 0.0


DEFAULT_PARAMS = AugmentParams()
#: No change at all (``augment_batch`` returns an exact copy): for tests and comparisons.
IDENTITY_PARAMS = AugmentParams(
    max_shift=0.0,
    max_rotation=0.0,
    scale=(1.0, 1.0),
    max_shear=0.0,
    thickness=(0.0, 0.0),
    aspect=(1.0, 1.0),
)


def random_inverse_affines(
    batch: int, rng: np.random.Generator, params: AugmentParams = DEFAULT_PARAMS
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Draw ``batch`` transforms; return their inverses as (matrices (batch, 2, 2), shifts
    (batch, 2)) in (row, column) order, so source = M @ (out - pivot - shift) + pivot."""
    angle = np.deg2rad(rng.uniform(-params.max_rotation, params.max_rotation, batch))
    zoom = rng.uniform(params.scale[0], params.scale[1], (batch, 2 if params.scale_per_axis else 1))
    shear = rng.uniform(-params.max_shear, params.max_shear, batch)
    shift = rng.uniform(-params.max_shift, params.max_shift, (batch, 2))
    if params.aspect != (1.0, 1.0):
        zoom = zoom * np.stack([np.ones(batch), rng.uniform(*params.aspect, batch)], axis=1)
    cos, sin = np.cos(angle), np.sin(angle)
    # Forward map on (row, column) vectors = R @ Shear @ Zoom. With rows growing downwards,
    # R = [[cos, -sin], [sin, cos]] turns the digit counter-clockwise on screen.
    forward = np.empty((batch, 2, 2))
    forward[:, 0, 0] = cos
    forward[:, 0, 1] = -sin
    forward[:, 1, 0] = sin
    forward[:, 1, 1] = cos
    shear_m = np.zeros((batch, 2, 2))
    shear_m[:, 0, 0] = 1.0
    shear_m[:, 1, 1] = 1.0
    shear_m[:, 1, 0] = shear  # column += shear * row: a slant
    forward = forward @ shear_m * zoom[:, None, :]  # scales the columns: diag(zoom) on the right
    return np.linalg.inv(forward).astype(np.float32), shift.astype(np.float32)


def random_displacements(batch: int, rng: np.random.Generator, rms: float) -> NDArray[np.float32]:
    """Smooth random displacement fields (batch, 2, 784) in pixels, ``rms`` per axis.

    Noise on the 10x10 control grid, spread separably: field = S @ noise @ S.T per image and
    axis, with S (28, 10) the normalised Gaussian weights.
    """
    noise = rng.standard_normal((batch * 2, _CONTROL.size, _CONTROL.size), dtype=np.float32)
    noise *= rms / _SPREAD_RMS
    field = np.matmul(np.matmul(_SPREAD, noise), _SPREAD.T)  # (batch * 2, 28, 28)
    return field.reshape(batch, 2, PIXELS)


def warp_batch(
    images: NDArray,
    inverse: NDArray[np.float32],
    shift: NDArray[np.float32],
    displacement: NDArray[np.float32] | None = None,
) -> NDArray[np.float32]:
    """Apply affine transforms to a batch by inverse mapping with bilinear interpolation.

    images : (batch, 784) or (batch, 28, 28), values in [0, 1].
    inverse : (batch, 2, 2) and shift : (batch, 2), from :func:`random_inverse_affines`.
    displacement : optional (batch, 2, 784) offsets (rows, columns) added to the source
        coordinates of each output pixel (:func:`random_displacements`).
    Returns a new float32 array of shape (batch, 784).

    Written for few, reused temporaries: at this size the cost is memory traffic (and the
    page faults of fresh allocations), not arithmetic.
    """
    batch = images.shape[0]
    padded = np.zeros((batch, _PADDED, _PADDED), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = images.reshape(batch, SIDE, SIDE)
    flat = padded.ravel()
    # Source = M @ (out - pivot - shift) + pivot, as one (2x3 affine) @ (3, 784) product per
    # image, with +1 to land directly in the padded array's index coordinates.
    affine = np.empty((batch, 2, 3), dtype=np.float32)
    affine[:, :, :2] = inverse
    affine[:, :, 2] = _PIVOT + 1.0 - np.einsum("bij,bj->bi", inverse, shift)
    src = np.matmul(affine, _GRID)  # (batch, 2, 784): padded row, padded column
    if displacement is not None:
        src += displacement
    # Outside the image everything reads the zero border: clamp to the border pixels, and keep
    # the upper neighbour (index + 1) inside the padded array.
    np.clip(src, 0.0, float(SIDE + 1), out=src)
    corner = src.astype(np.int32)  # truncation is floor here: src >= 0
    np.minimum(corner, SIDE, out=corner)
    src -= corner  # now the fractional parts
    fy, fx = src[:, 0], src[:, 1]
    idx = np.multiply(corner[:, 0], _PADDED, dtype=np.intp)
    idx += corner[:, 1]
    idx += np.arange(0, batch * _PADDED * _PADDED, _PADDED * _PADDED, dtype=np.intp)[:, None]
    tmp = np.empty_like(idx)
    top = np.take(flat, idx)  # (r, c) then (r, c+1), blended along the row
    other = np.take(flat, np.add(idx, 1, out=tmp))
    other -= top
    other *= fx
    top += other
    bottom = np.take(flat, np.add(idx, _PADDED, out=tmp))  # the same one row down
    np.take(flat, np.add(idx, _PADDED + 1, out=tmp), out=other)
    other -= bottom
    other *= fx
    bottom += other
    bottom -= top  # then blend the two rows
    bottom *= fy
    top += bottom
    return top


def change_thickness(images: NDArray[np.float32], amount: NDArray) -> NDArray[np.float32]:
    """Blend each image towards its 4-neighbour dilation (amount > 0) or erosion (< 0).

    images : (batch, 784) float32, changed in place and returned; amount : (batch,) in [-1, 1].
    A whole pixel of dilation is a lot at 28x28 (MNIST strokes are ~2.4 px), hence the blend.
    Both morphologies are computed for the whole batch with shifted slices: cheaper than
    splitting the batch by sign with fancy indexing.
    """
    batch = images.shape[0]
    img = images.reshape(batch, SIDE, SIDE)
    grown = img.copy()
    shrunk = img.copy()
    for near, far in (
        ((slice(None), slice(1, None)), (slice(None), slice(None, -1))),
        ((slice(None), slice(None, -1)), (slice(None), slice(1, None))),
    ):
        for axis in (1, 2):
            a = (slice(None), *(near if axis == 1 else near[::-1]))
            b = (slice(None), *(far if axis == 1 else far[::-1]))
            np.maximum(grown[a], img[b], out=grown[a])
            np.minimum(shrunk[a], img[b], out=shrunk[a])
    amount = amount.astype(np.float32)[:, None, None]
    img += np.maximum(amount, 0.0) * (grown - img) + np.maximum(-amount, 0.0) * (shrunk - img)
    return images


def augment_batch(
    x: NDArray, rng: np.random.Generator, params: AugmentParams = DEFAULT_PARAMS
) -> NDArray[np.float32]:
    """A randomly warped copy of a minibatch of 28x28 images; ``x`` is never written.

    x : (batch, 784) or (batch, 28, 28), values in [0, 1].
    rng : the caller's generator (the trainer's, so a seed reproduces the run).
    Returns float32 of shape (batch, 784), values in [0, 1].
    """
    x = np.asarray(x)
    if x.ndim < 2 or x.shape[0] == 0 or int(np.prod(x.shape[1:])) != PIXELS:
        raise ValueError(
            f"augment_batch needs (batch, 784) or (batch, 28, 28) images, got shape {x.shape}"
        )
    batch = x.shape[0]
    inverse, shift = random_inverse_affines(batch, rng, params)
    field = random_displacements(batch, rng, params.elastic) if params.elastic > 0 else None
    out = warp_batch(x, inverse, shift, field)
    lo, hi = params.thickness
    if lo != 0.0 or hi != 0.0:
        out = change_thickness(out, rng.uniform(lo, hi, batch))
    return np.clip(out, 0.0, 1.0, out=out)
