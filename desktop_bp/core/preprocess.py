"""Turn a drawing into what an MNIST-trained network expects: a 28x28 digit, ink 1 on 0.

LeCun's recipe for MNIST (from the NIST scans): crop to the ink, scale the longer side to 20 px
with anti-aliasing keeping the aspect ratio, and paste into 28x28 so that the intensity centre
of mass sits at the centre. :func:`lecun_preprocess` is that recipe, plainly.
:func:`to_mnist` improves on it, one optional stage at a time (see :class:`PreprocessOptions`):

1. polarity and contrast: dark-on-light drawings are inverted (``ink_is_dark``), a grey
   paper level (the median pixel) is subtracted and the strongest ink stretched to 1;
2. stray specks are dropped: connected components of the ink that are both small and away
   from the digit do not count towards the crop or the centre of mass;
3. crop, then resample to a working resolution (longer side 80 px: 4x the final 20) by exact
   area averaging;
4. deskew by image moments (the classic MNIST deskew), but only as far as the MNIST digits
   themselves lean: slants outside MNIST's usual range are sheared back to its edge;
5. stroke-thickness normalisation: the stroke width, estimated as ``2 * ink area / perimeter``
   at 28x28 scale, is brought into the range of half of all MNIST digits (its quartiles) by
   dilating or eroding with a disc — a hairline or a marker becomes MNIST ink, a pen MNIST
   writers might have used is left alone (as with the slant, in-distribution input is never
   distorted);
6. one area-averaging resample straight into the 28x28 field, scaled so the longer side is
   20 px and offset (sub-pixel) so the centre of mass lands exactly on the centre.

Centre convention, checked on the embedded MNIST digits (``tests/core/test_preprocess.py``):
with 0-based pixel *indices* (row, column), MNIST's intensity centre of mass averages
(14.0, 14.0), spread as a uniform +-0.5 px (std 0.29) because LeCun shifted by whole pixels.
So the target is index 14.0 — the centre of pixel 14 — not 13.5, the geometric centre of a
28-pixel field. In the pixel-*edge* coordinates used by the resampling below (pixel ``i`` spans
``[i, i+1]``) that is 14.5.

Moment normalisation (Liu et al. 2004, applied to the training set and the drawings alike) was
measured and removed: with augmentation it read fewer real pen-drawn digits (the 600 UJI
digits: 0.948 against 0.955 for 784-100-10, 0.922 against 0.925 for the book's network).

Every constant comes from the MNIST digits themselves, never from the drawings it is tested
on; ``benchmarks/handwriting_accuracy.py`` measures the pad on real handwriting.
numpy and the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

#: MNIST's intensity centre of mass in 0-based index coordinates (row, column); see above.
MNIST_CENTER: float = 14.0
#: LeCun's box for the longer side of the digit, in pixels.
BOX: int = 20
#: Side of the output field.
FIELD: int = 28
#: Median stroke width of the embedded MNIST training digits at 28x28, by
#: :func:`stroke_width` (per class from 2.1 for 5 to 2.7 for 0).
MNIST_STROKE_WIDTH: float = 2.37
#: Their quartiles: half of all MNIST digits are drawn with a stroke in this range.
MNIST_STROKE_RANGE: tuple[float, float] = (2.02, 2.79)
#: The 10th and 90th percentiles of the embedded MNIST training digits' skew (:func:`skew`:
#: columns moved per row down, negative = leaning right, like "/"). Median -0.13.
MNIST_SKEW_RANGE: tuple[float, float] = (-0.49, 0.22)

# Pixels brighter than this (after the background is removed) are "ink" for the component
# analysis; the anti-aliased fringe below it is kept or dropped with its component.
_INK_THRESHOLD = 0.3
# The working resolution is WORK_SCALE times the final 20 px box: fine enough that a dilation
# by a fraction of a final pixel is several working pixels.
_WORK_SCALE = 4


@dataclass(frozen=True)
class PreprocessOptions:
    """Which of the improvements over LeCun's recipe :func:`to_mnist` applies.

    remove_specks: ignore small ink blobs away from the digit.
    speck_fraction: a blob lighter than this share of the heaviest one is a speck unless it is
        near the digit (within ``near_fraction`` of the digit's size).
    deskew: shear slants outside ``skew_range`` back to its nearest edge (``None`` range:
        shear every digit upright, the classic deskew).
    normalize_thickness: dilate or erode so the stroke width at 28x28 lies in
        ``stroke_range`` (moved to its nearest end; ``None``: exactly ``stroke_width``).
    subpixel_center: place the centre of mass exactly (else: LeCun's whole-pixel shift).
    """

    remove_specks: bool = True
    speck_fraction: float = 0.25
    near_fraction: float = 0.15
    deskew: bool = True
    skew_range: tuple[float, float] | None = MNIST_SKEW_RANGE
    normalize_thickness: bool = True
    stroke_width: float = MNIST_STROKE_WIDTH
    stroke_range: tuple[float, float] | None = MNIST_STROKE_RANGE
    subpixel_center: bool = True


#: Everything off: LeCun's recipe (with exact area-averaging) — the baseline.
LECUN_OPTIONS = PreprocessOptions(
    remove_specks=False, deskew=False, normalize_thickness=False, subpixel_center=False
)


@dataclass
class PreprocessResult:
    """What :func:`to_mnist` made of an image.

    image : float32 of shape (28, 28) in [0, 1], ink 1 on 0 (all zeros when ``empty``).
    empty : True when there was no ink to speak of.
    stages : name -> float32 image in [0, 1] after each stage, in order (only when asked for).
    stroke_width : estimated stroke width at 28x28 before / after normalisation (px).
    skew : the slant found (columns per row) before deskewing.
    """

    image: NDArray[np.float32]
    empty: bool
    stages: dict[str, NDArray[np.float32]] = field(default_factory=dict)
    stroke_width: tuple[float, float] = (0.0, 0.0)
    skew: float = 0.0


# -- small numpy tools ------------------------------------------------------------------------
def as_ink(image: NDArray, *, ink_is_dark: bool = False) -> NDArray[np.float64]:
    """Float copy in [0, 1] with ink high and the background at 0.

    image : shape (H, W), integer (scaled by its dtype's maximum) or float in [0, 1].
    The median pixel is taken as the paper (a digit covers well under half the page) and
    subtracted, so light-grey paper or a dark-grey canvas does not count as ink; then the
    strongest ink is stretched to 1.
    """
    a = np.asarray(image)
    if a.ndim != 2:
        raise ValueError(f"image must be 2-D (H, W), got shape {a.shape}")
    if np.issubdtype(a.dtype, np.integer):
        x = a.astype(np.float64) / float(np.iinfo(a.dtype).max)
    else:
        x = np.clip(a.astype(np.float64), 0.0, 1.0)
    if ink_is_dark:
        x = 1.0 - x
    background = float(np.median(x[:: max(1, x.shape[0] // 64), :: max(1, x.shape[1] // 64)]))
    if background > 0.0:
        x = np.clip(x - background, 0.0, 1.0)
    # Stretch the darkest ink to 1, as in MNIST (grey pencil, a dim scan), unless there is too
    # little contrast to call anything ink: then the image stays faint and counts as empty.
    peak = float(x.max())
    if _INK_THRESHOLD <= peak < 1.0:
        x /= peak
    return x


def resample_matrix(n_in: int, n_out: int, scale: float, offset: float) -> NDArray[np.float64]:
    """Matrix M of shape (n_out, n_in) with ``out = M @ in`` along one axis.

    In pixel-edge coordinates (pixel ``i`` spans [i, i+1]) a source point ``u`` lands at
    ``u * scale + offset``. Shrinking (scale <= 1) averages the source over each output pixel's
    footprint (exact area averaging, the anti-aliasing LeCun used); enlarging interpolates
    linearly between pixel centres.
    """
    j = np.arange(n_out, dtype=np.float64)[:, None]
    i = np.arange(n_in, dtype=np.float64)[None, :]
    if scale <= 1.0:
        lo = (j - offset) / scale  # the output pixel's footprint in source coordinates
        hi = (j + 1.0 - offset) / scale
        overlap = np.clip(np.minimum(hi, i + 1.0) - np.maximum(lo, i), 0.0, None)
        return overlap * scale
    centre = (j + 0.5 - offset) / scale - 0.5  # output pixel centre, as a source index
    return np.clip(1.0 - np.abs(centre - i), 0.0, None)


def _resample_axis0(image: NDArray, n_out: int, scale: float, offset: float) -> NDArray:
    """:func:`resample_matrix` ``@ image``, computed without the matrix (no BLAS: its
    threads only get in the way at this size) in O(pixels).

    Shrinking integrates the image along axis 0 through its running sum: the area of a
    piecewise-constant row profile between two fractional positions is the difference of
    the linearly interpolated cumulative sum there. Enlarging interpolates linearly.
    """
    n_in = image.shape[0]
    j = np.arange(n_out, dtype=np.float64)
    if scale <= 1.0:
        cumulative = np.concatenate([np.zeros((1, *image.shape[1:])), np.cumsum(image, axis=0)])

        def integral(u: NDArray) -> NDArray:
            u = np.clip(u, 0.0, float(n_in))
            k = np.minimum(np.floor(u).astype(np.intp), n_in - 1)
            frac = (u - k)[:, None]
            return cumulative[k] + frac * (cumulative[k + 1] - cumulative[k])

        return (integral((j + 1.0 - offset) / scale) - integral((j - offset) / scale)) * scale
    centre = (j + 0.5 - offset) / scale - 0.5  # output pixel centres, as source indices
    padded = np.concatenate(
        [np.zeros((1, *image.shape[1:])), image, np.zeros((1, *image.shape[1:]))]
    )
    centre = np.clip(centre, -1.0, float(n_in))
    k = np.minimum(np.floor(centre).astype(np.intp), n_in - 1)
    frac = (centre - k)[:, None]
    return padded[k + 1] * (1.0 - frac) + padded[k + 2] * frac


def resample(
    image: NDArray, shape: tuple[int, int], scale: float, offset: tuple[float, float]
) -> NDArray[np.float64]:
    """Scale ``image`` (H, W) by ``scale`` about the origin, shift by ``offset`` (row, column)
    output pixels, and return the ``shape`` window: ``rows @ image @ cols.T`` with the
    :func:`resample_matrix` of each axis, one axis at a time."""
    rows = _resample_axis0(np.asarray(image, dtype=np.float64), shape[0], scale, offset[0])
    return _resample_axis0(rows.T, shape[1], scale, offset[1]).T


def center_of_mass(image: NDArray) -> tuple[float, float]:
    """Intensity centre of mass (row, column) in 0-based index coordinates; image (H, W)."""
    total = float(image.sum())
    if total <= 0.0:
        return (image.shape[0] - 1) / 2.0, (image.shape[1] - 1) / 2.0
    rows = image.sum(axis=1) @ np.arange(image.shape[0]) / total
    cols = image.sum(axis=0) @ np.arange(image.shape[1]) / total
    return float(rows), float(cols)


def skew(image: NDArray) -> float:
    """Slant as columns moved per row down: mu11 / mu02 of the intensity (image (H, W)).

    Negative for a digit leaning right ("/"): its top is further right than its bottom.
    """
    total = float(image.sum())
    if total <= 0.0:
        return 0.0
    cy, cx = center_of_mass(image)
    dy = np.arange(image.shape[0]) - cy
    dx = np.arange(image.shape[1]) - cx
    mu02 = float(image.sum(axis=1) @ dy**2) / total
    mu11 = float(dy @ image @ dx) / total
    return mu11 / mu02 if mu02 > 1e-9 else 0.0


def stroke_width(image: NDArray) -> float:
    """Stroke width in pixels of ``image`` (H, W), as ``2 * ink area / perimeter``.

    A stroke of length L and width w has area L*w and perimeter about 2L. The area is the
    summed intensity and the perimeter the total variation (summed gradient magnitude), which
    counts an anti-aliased edge exactly like a sharp one, so the estimate works at 28x28.
    """
    dy = np.diff(image, axis=0)[:, :-1]
    dx = np.diff(image, axis=1)[:-1, :]
    perimeter = float(np.sqrt(dy * dy + dx * dx).sum())
    return 2.0 * float(image.sum()) / perimeter if perimeter > 1e-9 else 0.0


def bounding_box(image: NDArray, level: float = 0.0) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of pixels above ``level``, bottom/right exclusive."""
    rows = np.flatnonzero(image.max(axis=1) > level)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(image.max(axis=0) > level)
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _disc_offsets(radius: int) -> list[tuple[int, int]]:
    r = np.arange(-radius, radius + 1)
    dy, dx = np.meshgrid(r, r, indexing="ij")
    keep = dy * dy + dx * dx <= radius * radius + radius  # a rounder disc for small radii
    return list(zip(dy[keep].tolist(), dx[keep].tolist(), strict=True))


def _dilate_int(image: NDArray, radius: int) -> NDArray:
    if radius <= 0:
        return image.copy()
    h, w = image.shape
    padded = np.zeros((h + 2 * radius, w + 2 * radius), dtype=image.dtype)
    padded[radius:-radius, radius:-radius] = image
    out = image.copy()
    for dy, dx in _disc_offsets(radius):
        np.maximum(
            out, padded[radius + dy : radius + dy + h, radius + dx : radius + dx + w], out=out
        )
    return out


def dilate(image: NDArray, radius: float) -> NDArray:
    """Grey-level dilation by a disc of (fractional) ``radius``; negative radius erodes.

    A fractional radius blends the two neighbouring whole-pixel discs linearly. The image
    (H, W) must have room around the ink: nothing is dilated past its border.
    """
    if radius < 0:
        return 1.0 - dilate(1.0 - image, -radius)
    low = int(np.floor(radius))
    frac = radius - low
    lower = _dilate_int(image, low)
    if frac < 1e-3:
        return lower
    return lower + frac * (_dilate_int(image, low + 1) - lower)


def label_components(mask: NDArray[np.bool_]) -> tuple[NDArray[np.int32], int]:
    """8-connected components of ``mask`` (H, W): labels (H, W) with 0 = background and
    1..n the components, and n.

    Works on horizontal runs with a union-find, so the Python-level work grows with the
    number of runs (a few per row for a drawing), not with the number of pixels.
    """
    h, w = mask.shape
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    run_rows, run_starts = np.nonzero(edges == 1)
    _, run_ends = np.nonzero(edges == -1)  # exclusive; same row-major order as the starts
    n_runs = run_rows.size
    labels = np.zeros((h, w), dtype=np.int32)
    if n_runs == 0:
        return labels, 0
    parent = list(range(n_runs))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    row_first = np.searchsorted(run_rows, np.arange(h + 1)).tolist()
    starts, ends = run_starts.tolist(), run_ends.tolist()
    for row in range(1, h):
        a, a_end = row_first[row - 1], row_first[row]
        b, b_end = row_first[row], row_first[row + 1]
        # Two runs on consecutive rows touch (diagonally included) when [s, e] ranges overlap.
        while a < a_end and b < b_end:
            if starts[a] <= ends[b] and starts[b] <= ends[a]:
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
            if ends[a] < ends[b]:
                a += 1
            else:
                b += 1
    roots = np.array([find(k) for k in range(n_runs)])
    _, run_label = np.unique(roots, return_inverse=True)
    run_label = run_label + 1
    lengths = run_ends - run_starts
    pixel_rows = np.repeat(run_rows, lengths)
    pixel_cols = np.repeat(run_starts - np.cumsum(lengths) + lengths, lengths) + np.arange(
        lengths.sum()
    )
    labels[pixel_rows, pixel_cols] = np.repeat(run_label, lengths)
    return labels, int(run_label.max())


def remove_specks(
    image: NDArray, speck_fraction: float = 0.25, near_fraction: float = 0.15
) -> NDArray[np.float64]:
    """Copy of ``image`` (H, W) with stray specks zeroed.

    The heaviest blob (by summed intensity) is the digit. Every other blob, heaviest first,
    joins it when it weighs at least ``speck_fraction`` of the heaviest (a second stroke of a
    4 or a 5), or when its box lies within ``near_fraction`` of the digit's size from the
    digit's box (a short stroke drawn near the rest). Anything else — a tap far off, dust —
    is dropped, as is faint ink that never reaches the ink threshold.
    """
    # The blobs are found on a coarser grid (blocks of ``f`` x ``f`` pixels, ~100 blocks
    # across): a stroke is many pixels wide, so nothing real is lost, and the labelling and
    # the margin below cost a tenth as much as at full resolution.
    h, w = image.shape
    f = max(1, round(max(h, w) / 100))
    hp, wp = -(-h // f), -(-w // f)
    padded = np.zeros((hp * f, wp * f))
    padded[:h, :w] = image
    # Pool one axis at a time: a reduction over contiguous memory is far faster than over
    # axes (1, 3) of a 4-D view.
    rows_pooled = padded.reshape(hp, f, wp * f)
    block_mass = rows_pooled.sum(axis=1).reshape(hp, wp, f).sum(axis=2)
    mask = rows_pooled.max(axis=1).reshape(hp, wp, f).max(axis=2) > _INK_THRESHOLD
    labels, count = label_components(mask)
    if count == 0:
        return np.zeros_like(image)
    if count > 1:
        mass = np.bincount(labels.ravel(), weights=block_mass.ravel(), minlength=count + 1)[1:]
        rows, cols = np.nonzero(labels)
        lab = labels[rows, cols] - 1
        top = np.full(count, 1 << 30)
        left = np.full(count, 1 << 30)
        bottom = np.full(count, -1)
        right = np.full(count, -1)
        np.minimum.at(top, lab, rows)
        np.maximum.at(bottom, lab, rows + 1)
        np.minimum.at(left, lab, cols)
        np.maximum.at(right, lab, cols + 1)
        order = np.argsort(-mass)
        main = order[0]
        box = [top[main], bottom[main], left[main], right[main]]
        keep = np.zeros(count + 1, dtype=bool)
        keep[main + 1] = True
        for k in order[1:]:
            size = max(box[1] - box[0], box[3] - box[2])
            gap = max(box[0] - bottom[k], top[k] - box[1], box[2] - right[k], left[k] - box[3])
            if mass[k] >= speck_fraction * mass[main] or gap <= near_fraction * size:
                keep[k + 1] = True
                box = [
                    min(box[0], top[k]),
                    max(box[1], bottom[k]),
                    min(box[2], left[k]),
                    max(box[3], right[k]),
                ]
        mask = keep[labels]
    # Keep the anti-aliased fringe around the kept ink (a block's margin), nothing else.
    near_ink = _dilate_int(mask.astype(np.float64), 1) > 0
    near_ink = np.repeat(np.repeat(near_ink, f, axis=0), f, axis=1)[:h, :w]
    return np.where(near_ink, image, 0.0)


# -- the two pipelines ------------------------------------------------------------------------
def lecun_preprocess(image: NDArray, *, ink_is_dark: bool = False) -> NDArray[np.float32] | None:
    """LeCun's plain recipe: crop to the ink, scale the longer side to 20 px (area averaging,
    aspect kept), paste into 28x28 with the centre of mass moved to (14, 14) by whole pixels.

    image : shape (H, W). Returns float32 (28, 28) in [0, 1], or None when there is no ink.
    """
    ink = as_ink(image, ink_is_dark=ink_is_dark)
    box = bounding_box(ink, 0.05)
    if box is None:
        return None
    crop = ink[box[0] : box[1], box[2] : box[3]]
    scale = BOX / max(crop.shape)
    size = (max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale)))
    small = resample(crop, size, scale, (0.0, 0.0))
    cy, cx = center_of_mass(small)
    top, left = round(MNIST_CENTER - cy), round(MNIST_CENTER - cx)
    out = np.zeros((FIELD, FIELD))
    _paste(out, small, top, left)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _paste(out: NDArray, patch: NDArray, top: int, left: int) -> None:
    """Add ``patch`` into ``out`` at (top, left), clipping whatever falls outside."""
    t0, l0 = max(top, 0), max(left, 0)
    t1 = min(top + patch.shape[0], out.shape[0])
    l1 = min(left + patch.shape[1], out.shape[1])
    if t1 > t0 and l1 > l0:
        out[t0:t1, l0:l1] += patch[t0 - top : t1 - top, l0 - left : l1 - left]


def _shear_rows(image: NDArray, shear: float) -> NDArray[np.float64]:
    """Shift each row of ``image`` (H, W) by ``shear * (row - centre row)`` columns, with
    linear interpolation, into a wider array that holds the whole result."""
    h, w = image.shape
    cy, _ = center_of_mass(image)
    shifts = shear * (np.arange(h) - cy)
    pad = int(np.ceil(np.abs(shifts).max())) + 1
    out_w = w + 2 * pad
    # out[r, c] = image[r, c - pad - shift[r]]: inverse-mapped, so no holes.
    src = np.arange(out_w)[None, :] - pad - shifts[:, None]
    left = np.floor(src).astype(np.int64)
    frac = src - left
    padded = np.pad(image, ((0, 0), (1, 2)))  # index -1 .. w+1 read as zero
    li = np.clip(left + 1, 0, w + 2)
    ri = np.clip(left + 2, 0, w + 2)
    rows = np.arange(h)[:, None]
    return padded[rows, li] * (1.0 - frac) + padded[rows, ri] * frac


def _crop(image: NDArray, margin: int) -> NDArray[np.float64]:
    box = bounding_box(image, 0.02)
    if box is None:
        return image
    crop = image[box[0] : box[1], box[2] : box[3]]
    return np.pad(crop, margin)


def _place(work: NDArray, options: PreprocessOptions) -> NDArray[np.float64]:
    """Resample the (margin-padded) working image into the 28x28 field: longer side of the
    ink's box to 20 px, the centre of mass to index (14, 14)."""
    box = bounding_box(work, 0.02)
    assert box is not None
    scale = BOX / max(box[1] - box[0], box[3] - box[2])
    cy, cx = center_of_mass(work)
    # Edge coordinates: index c is the pixel [c, c+1], its centre c + 0.5.
    off_y = MNIST_CENTER + 0.5 - (cy + 0.5) * scale
    off_x = MNIST_CENTER + 0.5 - (cx + 0.5) * scale
    if not options.subpixel_center:
        # LeCun: the box's corner on whole pixels, then a whole-pixel shift of the centre.
        off_y = round(off_y - (-box[0] * scale)) - box[0] * scale
        off_x = round(off_x - (-box[2] * scale)) - box[2] * scale
    return resample(work, (FIELD, FIELD), scale, (off_y, off_x))


def to_mnist(
    image: NDArray,
    *,
    ink_is_dark: bool = False,
    options: PreprocessOptions | None = None,
    keep_stages: bool = False,
) -> PreprocessResult:
    """The improved pipeline (module docstring): any drawing -> a 28x28 MNIST-style digit.

    image : shape (H, W), ink bright on dark unless ``ink_is_dark``; integer or float in [0, 1].
    Returns a :class:`PreprocessResult`; its ``image`` is float32 (28, 28) in [0, 1], all zeros
    with ``empty=True`` when there is no ink. ``keep_stages`` records each intermediate image.
    """
    options = options or PreprocessOptions()
    stages: dict[str, NDArray[np.float32]] = {}

    def stage(name: str, a: NDArray) -> None:
        if keep_stages:
            stages[name] = np.clip(a, 0.0, 1.0).astype(np.float32)

    ink = as_ink(image, ink_is_dark=ink_is_dark)
    stage("input", ink)
    if options.remove_specks:
        ink = remove_specks(ink, options.speck_fraction, options.near_fraction)
    box = bounding_box(ink, 0.05)
    if box is None or float(ink.max()) < _INK_THRESHOLD:
        return PreprocessResult(np.zeros((FIELD, FIELD), np.float32), True, stages)
    crop = ink[box[0] : box[1], box[2] : box[3]]
    stage("cropped", crop)

    # Working resolution: the longer side becomes 80 px, with a margin for dilation.
    margin = 3 * _WORK_SCALE
    work_side = BOX * _WORK_SCALE
    scale = work_side / max(crop.shape)
    size = (max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale)))
    work = np.pad(resample(crop, size, scale, (0.0, 0.0)), margin)

    found_skew = skew(work)
    if options.deskew:
        target = 0.0
        if options.skew_range is not None:
            target = min(max(found_skew, options.skew_range[0]), options.skew_range[1])
        if abs(found_skew - target) > 1e-3:
            work = _crop(_shear_rows(work, target - found_skew), margin)
        stage("deskewed", work)

    # Stroke width as it would come out at 28x28 (the scale MNIST's statistic was taken at).
    width_before = stroke_width(_place(work, options))
    width_after = width_before
    if options.normalize_thickness and width_before > 0:
        box = bounding_box(work, 0.02)
        assert box is not None
        longer = max(box[1] - box[0], box[3] - box[2])
        # In working pixels the stroke is W = w28 * L / 20. Dilating by r makes it W + 2r and
        # the box L + 2r; solve (W + 2r) * 20 / (L + 2r) = target for r.
        target = options.stroke_width
        if options.stroke_range is not None:
            target = min(max(width_before, options.stroke_range[0]), options.stroke_range[1])
        current = width_before * longer / BOX
        radius = (target * longer / BOX - current) / (2.0 * (1.0 - target / BOX))
        # Never erode more than a third of the stroke away: a thin part would vanish.
        radius = max(radius, -current / 3.0)
        if abs(radius) >= 0.25:
            work = np.pad(work, int(np.ceil(max(radius, 0.0))) + 1)
            work = _crop(np.clip(dilate(work, radius), 0.0, 1.0), margin)
        stage("thickness", work)
    if keep_stages:
        box = bounding_box(work, 0.02)
        assert box is not None
        crop = work[box[0] : box[1], box[2] : box[3]]
        s = BOX / max(crop.shape)
        stage(
            "scaled",
            resample(crop, (round(crop.shape[0] * s), round(crop.shape[1] * s)), s, (0.0, 0.0)),
        )
    out = np.clip(_place(work, options), 0.0, 1.0)
    if options.normalize_thickness:
        width_after = stroke_width(out)
    stage("mnist", out)
    return PreprocessResult(
        out.astype(np.float32), False, stages, (width_before, width_after), found_skew
    )
