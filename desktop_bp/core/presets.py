"""Named training configurations: the book's chapter 5, and the app's default.

- ``book``: exactly ``ch05/train_neuralnet.py`` — 784-50-10 ReLU, weight_init_std 0.01,
  lr 0.1 constant, batch 100, 10,000 iterations, no augmentation. The speed comparison with the
  book's own loop (benchmarks/train_speed.py) runs on it.
- ``default``: what one click on Train does in the window and ``desktop-bp train`` does in the
  terminal: the same network family and SGD, chosen by measurement to read real handwriting
  (pen-drawn digits replayed on the pad, benchmarks/handwriting_accuracy.py) within 4x the
  book preset's training time. See the README's frontier table for what was measured.
"""

from __future__ import annotations

from dataclasses import replace

from desktop_bp.core.trainer import TrainConfig

BOOK = "book"
DEFAULT = "default"

PRESETS: dict[str, TrainConfig] = {
    DEFAULT: TrainConfig(
        hidden_size=100,
        learning_rate=0.2,
        lr_schedule="step",
        iterations=18_000,
        augment=True,
        train_accuracy_images=4000,
    ),
    BOOK: TrainConfig(),
}

#: What the window's preset combo shows for each preset.
LABELS: dict[str, str] = {
    DEFAULT: "Default (handwriting)",
    BOOK: "Book (chapter 5)",
}


def preset(name: str, **changes: object) -> TrainConfig:
    """A copy of preset ``name`` with ``changes`` applied (ValueError for an unknown name)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return replace(PRESETS[name], **changes)


def matching_preset(config: TrainConfig) -> str | None:
    """The preset whose every training setting equals ``config``'s (the seed aside), if any."""
    for name, candidate in PRESETS.items():
        if replace(candidate, seed=config.seed) == config:
            return name
    return None
