"""Render the chain-rule panel and sandbox offscreen and save them as PNGs.

Usage::

    python tools/screenshot_chain_rule.py [OUTPUT_DIR]

Trains a sigmoid 784-50-10 network for 300 steps on the embedded set, opens its Sigmoid layer
for test image 0 at the third backward step, and shows the apple-and-orange sandbox after two
steps. Writes ``chain_rule_panel.png`` and ``chain_rule_sandbox.png`` into OUTPUT_DIR (default
``docs/screenshots``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    from PySide6.QtWidgets import QApplication

    from desktop_bp.core.data import load_mnist
    from desktop_bp.core.network import TwoLayerNet
    from desktop_bp.gui import theme
    from desktop_bp.gui.insight.chain_rule.layer_panel import PrimitiveLayerPanel
    from desktop_bp.gui.insight.chain_rule.sandbox import ChainRuleSandbox

    output = Path(argv[0]) if argv else REPO_ROOT / "docs" / "screenshots"
    output.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    theme.apply_theme(app)
    (x_train, t_train), (x_test, t_test) = load_mnist()
    rng = np.random.default_rng(0)
    net = TwoLayerNet(activation="sigmoid", weight_init_std=0.1, rng=rng)
    for _ in range(300):
        batch = rng.integers(0, len(x_train), 100)
        grads = net.gradient(x_train[batch].astype(np.float64), t_train[batch])
        for key, grad in grads.items():
            net.params[key] -= 0.5 * grad

    panel = PrimitiveLayerPanel()
    panel.resize(1200, 760)
    panel.show()
    panel.set_network(net.params, "sigmoid")
    panel.set_sample(x_test[0], int(t_test[0]))
    panel.set_layer("Sigmoid1")
    panel.set_element(7)
    panel.set_step(3)
    sandbox = ChainRuleSandbox()
    sandbox.resize(1000, 540)
    sandbox.show()
    sandbox.set_graph("apple_orange")
    sandbox.graph.set_step(2)
    app.processEvents()
    for name, widget in (("chain_rule_panel", panel), ("chain_rule_sandbox", sandbox)):
        path = output / f"{name}.png"
        widget.grab().save(str(path))
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
