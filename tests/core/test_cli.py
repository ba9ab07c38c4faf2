"""The ``desktop-bp`` command line, run in-process through ``main([...])`` (plus two real
subprocesses): results on stdout, one clear error line on stderr, the documented exit codes."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from desktop_bp import cli
from desktop_bp.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, main
from desktop_bp.core import download
from desktop_bp.core.checkpoint import load_checkpoint, save_checkpoint
from desktop_bp.core.errors import DownloadError
from desktop_bp.core.network import PARAM_NAMES, TwoLayerNet
from desktop_bp.core.presets import preset
from desktop_bp.core.trainer import TrainConfig

EPOCH_LINE = re.compile(r"^epoch \d+, step \d+, train_acc [01]\.\d{4}, test_acc [01]\.\d{4}$")


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """Never touch (or download into) the real per-user data folder."""
    monkeypatch.setenv(download.DATA_DIR_ENV, str(tmp_path_factory.mktemp("data")))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def assert_one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("desktop-bp: error: ")
    assert "Traceback" not in err
    return lines[0]


# -- train ------------------------------------------------------------------------------------


def test_train_json(capsys) -> None:
    status, out, err = run(capsys, "train", "--iters", "200", "--json", "--hidden", "20")
    assert status == EXIT_OK
    assert err == ""  # not a terminal: no progress bar
    summary = last_json(out)
    assert summary["iterations"] == 200
    assert summary["seconds"] > 0
    assert 0.5 < summary["train_acc"] <= 1.0
    assert 0.5 < summary["test_acc"] <= 1.0
    assert 0 < summary["final_loss"] < 2.5
    assert summary["data"] == "embedded"
    assert "embedded" in summary["dataset"]
    # The default preset, with the two settings given on the command line.
    assert summary["config"] == preset("default", hidden_size=20, iterations=200).to_dict()
    assert summary["preset"] == "default"
    assert (summary["train_size"], summary["test_size"]) == (16001, 3999)
    assert summary["saved"] is None
    epoch_lines = out.strip().splitlines()[:-1]
    assert len(epoch_lines) >= 3  # epochs at steps 1, 161 and the final 200
    assert all(EPOCH_LINE.match(line) for line in epoch_lines), epoch_lines
    assert epoch_lines[-1].startswith(f"epoch {len(epoch_lines) - 1}, step 200,")


def test_train_text_summary(capsys) -> None:
    status, out, err = run(capsys, "train", "--iters", "50", "--hidden", "10", "--lr", "0.2")
    assert status == EXIT_OK
    assert err == ""
    assert "trained 50 iterations" in out
    assert "it/s" in out


def test_train_is_reproducible_with_a_seed(capsys) -> None:
    args = ("train", "--iters", "60", "--hidden", "8", "--seed", "5", "--json")
    first = last_json(run(capsys, *args)[1])
    second = last_json(run(capsys, *args)[1])
    assert first["final_loss"] == second["final_loss"]
    assert first["test_acc"] == second["test_acc"]


def test_train_save_then_eval(capsys, tmp_path: Path) -> None:
    weights = tmp_path / "w.npz"
    status, out, _ = run(
        capsys,
        "train",
        "--iters",
        "200",
        "--hidden",
        "16",
        "--activation",
        "sigmoid",
        "--lr",
        "0.5",
        "--save",
        str(weights),
        "--json",
    )
    assert status == EXIT_OK
    trained = last_json(out)
    assert trained["saved"] == str(weights)
    ckpt = load_checkpoint(weights)
    assert ckpt.iterations_done == 200
    assert ckpt.dataset == "embedded"
    assert (ckpt.config.hidden_size, ckpt.config.activation) == (16, "sigmoid")
    assert ckpt.config.learning_rate == 0.5
    assert ckpt.test_acc == trained["test_acc"]

    status, out, err = run(capsys, "eval", "--weights", str(weights), "--json")
    assert status == EXIT_OK
    assert err == ""
    evaluated = last_json(out)
    assert evaluated["data"] == "embedded"
    assert evaluated["iterations_done"] == 200
    # Same float32 weights on the same data; only BLAS summation order may differ.
    assert evaluated["train_acc"] == pytest.approx(trained["train_acc"], abs=1e-3)
    assert evaluated["test_acc"] == pytest.approx(trained["test_acc"], abs=1e-3)

    status, out, _ = run(capsys, "eval", "--weights", str(weights), "--data", "embedded")
    assert status == EXIT_OK
    assert re.search(r"train_acc \d\.\d{4} \(16,001 images\), test_acc \d\.\d{4}", out)


def test_eval_on_an_idx_folder(capsys, tmp_path: Path) -> None:
    from desktop_bp.core.data import load_raw
    from desktop_bp.core.idx import write_idx

    x_train, t_train, x_test, t_test = load_raw("embedded")
    folder = tmp_path / "idx"
    folder.mkdir()
    for name, array in (
        ("train-images-idx3-ubyte", x_train[:300]),
        ("train-labels-idx1-ubyte", t_train[:300]),
        ("t10k-images-idx3-ubyte", x_test[:100]),
        ("t10k-labels-idx1-ubyte", t_test[:100]),
    ):
        write_idx(folder / name, np.ascontiguousarray(array))
    weights = tmp_path / "w.npz"
    status, *_ = run(
        capsys, "train", "--data", str(folder), "--iters", "30", "--save", str(weights)
    )
    assert status == EXIT_OK
    assert load_checkpoint(weights).dataset == str(folder.resolve())
    status, out, _ = run(capsys, "eval", "--weights", str(weights), "--json")  # its own data
    assert status == EXIT_OK
    assert (last_json(out)["train_size"], last_json(out)["test_size"]) == (300, 100)


def test_divergence_exits_1_and_saves_nothing(capsys, tmp_path: Path) -> None:
    weights = tmp_path / "w.npz"
    status, _, err = run(
        capsys, "train", "--lr", "1000", "--iters", "2000", "--save", str(weights), "--json"
    )
    assert status == EXIT_FAILED
    assert "diverged" in assert_one_error_line(err)
    assert not weights.exists()


# -- gradcheck --------------------------------------------------------------------------------


def test_gradcheck_json_passes(capsys) -> None:
    status, out, err = run(capsys, "gradcheck", "--json", "--hidden", "10")
    assert status == EXIT_OK
    assert err == ""
    result = last_json(out)
    for key in PARAM_NAMES:
        assert 0 <= result[key] < 1e-6
    assert result["passed"] is True
    assert result["samples"] == 3
    assert result["numerical_seconds"] > result["backprop_seconds"] > 0
    assert result["architecture"] == "784-10-10"


def test_gradcheck_text_with_sigmoid(capsys) -> None:
    status, out, _ = run(capsys, "gradcheck", "--hidden", "5", "--activation", "sigmoid")
    assert status == EXIT_OK
    for key in PARAM_NAMES:
        assert re.search(rf"^  {key}: relative error \d\.\d{{3}}e-\d+  ok$", out, re.MULTILINE)
    assert "PASSED" in out
    assert "faster" in out


def test_gradcheck_at_saved_weights(capsys, tmp_path: Path) -> None:
    net = TwoLayerNet(784, 6, 10, 0.1, dtype=np.float32, rng=np.random.default_rng(1))
    weights = tmp_path / "w.npz"
    save_checkpoint(weights, net, config=TrainConfig(), dataset="embedded", iterations_done=0)
    status, out, _ = run(capsys, "gradcheck", "--weights", str(weights), "--json")
    assert status == EXIT_OK
    assert last_json(out)["architecture"] == "784-6-10"

    status, _, err = run(capsys, "gradcheck", "--weights", str(weights), "--hidden", "7")
    assert status == EXIT_USAGE
    assert "--hidden 7" in assert_one_error_line(err)


def test_gradcheck_failure_exits_1(capsys, monkeypatch) -> None:
    from desktop_bp.core import gradcheck

    real = gradcheck.check_gradient

    def off_by_a_bit(network, x, t):
        result = real(network, x, t)
        return gradcheck.GradientCheck(
            {**result.errors, "W2": 0.5}, result.backprop_seconds, result.numerical_seconds
        )

    monkeypatch.setattr(gradcheck, "check_gradient", off_by_a_bit)
    status, out, _ = run(capsys, "gradcheck", "--hidden", "3", "--json")
    assert status == EXIT_FAILED
    assert last_json(out)["passed"] is False


# -- download ---------------------------------------------------------------------------------


def test_download_reports_the_folder(capsys, monkeypatch, tmp_path: Path) -> None:
    calls = []

    def fake_download(name, folder=None, *, progress=None, **kwargs):
        calls.append(name)
        assert progress is not None
        progress(10, 100, "train-images-idx3-ubyte.gz")
        progress(100, 100, "train-images-idx3-ubyte.gz")
        return tmp_path

    monkeypatch.setattr(download, "download_dataset", fake_download)
    status, out, err = run(capsys, "download", "fashion-mnist")
    assert status == EXIT_OK
    assert calls == ["fashion-mnist"]
    assert str(tmp_path) in out
    assert "train-images-idx3-ubyte.gz" in err  # a line per file when not on a terminal


def test_download_failure_is_one_line_exit_1(capsys, monkeypatch) -> None:
    def offline(name, folder=None, **kwargs):
        raise DownloadError(
            "could not download x; every mirror failed:\n  - a: refused\n  - b: 404"
        )

    monkeypatch.setattr(download, "download_dataset", offline)
    status, _, err = run(capsys, "download", "mnist")
    assert status == EXIT_FAILED
    line = assert_one_error_line(err)
    assert "a: refused" in line and "b: 404" in line


# -- bad input --------------------------------------------------------------------------------


def _corrupt_file(tmp: Path) -> str:
    path = tmp / "corrupt.npz"
    path.write_bytes(b"PK\x03\x04 definitely not a zip")
    return str(path)


def _garbage_idx_folder(tmp: Path) -> str:
    folder = tmp / "garbage"
    folder.mkdir()
    for name in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        (folder / name).write_bytes(b"\x00\x00\x08\x03garbage")
    return str(folder)


def _empty_folder(tmp: Path) -> str:
    (tmp / "empty").mkdir()
    return str(tmp / "empty")


BAD_INPUTS: dict[str, Callable[[Path], list[str]]] = {
    "lr-negative": lambda t: ["train", "--lr", "-1"],
    "lr-nan": lambda t: ["train", "--lr", "nan"],
    "lr-text": lambda t: ["train", "--lr", "fast"],
    "hidden-zero": lambda t: ["train", "--hidden", "0"],
    "hidden-huge": lambda t: ["train", "--hidden", "10000000"],
    "batch-zero": lambda t: ["train", "--batch", "0"],
    "iters-text": lambda t: ["train", "--iters", "many"],
    "init-std-zero": lambda t: ["train", "--init-std", "0"],
    "seed-negative": lambda t: ["train", "--seed", "-1"],
    "activation": lambda t: ["train", "--activation", "tanh"],
    "unknown-option": lambda t: ["train", "--epochs", "3"],
    "data-missing": lambda t: ["train", "--data", str(t / "nowhere")],
    "data-empty-folder": lambda t: ["train", "--data", _empty_folder(t)],
    "data-garbage": lambda t: ["train", "--data", _garbage_idx_folder(t), "--iters", "5"],
    "save-no-folder": lambda t: ["train", "--save", str(t / "no" / "such" / "w.npz")],
    "save-is-folder": lambda t: ["train", "--save", str(t)],
    "eval-no-weights": lambda t: ["eval"],
    "eval-missing-file": lambda t: ["eval", "--weights", str(t / "missing.npz")],
    "eval-corrupt-file": lambda t: ["eval", "--weights", _corrupt_file(t)],
    "eval-bad-data": lambda t: ["eval", "--weights", _corrupt_file(t), "--data", "nowhere"],
    "gradcheck-corrupt": lambda t: ["gradcheck", "--weights", _corrupt_file(t)],
    "gradcheck-samples": lambda t: ["gradcheck", "--samples", "0"],
    "download-unknown": lambda t: ["download", "kmnist"],
    "unknown-command": lambda t: ["fly"],
    "no-command": lambda t: ["--no-such-flag"],
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2(capsys, tmp_path: Path, case: str) -> None:
    status, out, err = run(capsys, *BAD_INPUTS[case](tmp_path))
    assert status == EXIT_USAGE
    assert_one_error_line(err)
    assert out == ""


def test_error_messages_name_the_problem(capsys, tmp_path: Path) -> None:
    _, _, err = run(capsys, "train", "--lr", "-1")
    assert "--lr" in err and "'-1'" in err
    corrupt = _corrupt_file(tmp_path)
    _, _, err = run(capsys, "eval", "--weights", corrupt)
    assert corrupt in err and "not a Desktop BP weights file" in err
    _, _, err = run(capsys, "train", "--save", str(tmp_path / "no" / "w.npz"))
    assert "--save" in err and "does not exist" in err


def test_weights_of_another_input_size_are_refused(capsys, tmp_path: Path) -> None:
    net = TwoLayerNet(100, 5, 10, dtype=np.float32)
    weights = tmp_path / "small.npz"
    save_checkpoint(weights, net, config=TrainConfig(), dataset="embedded", iterations_done=0)
    status, _, err = run(capsys, "eval", "--weights", str(weights))
    assert status == EXIT_USAGE
    assert "100 inputs" in assert_one_error_line(err)


def test_ctrl_c_exits_130(capsys, monkeypatch) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_load_data", interrupted)
    status, _, err = run(capsys, "train")
    assert status == EXIT_INTERRUPTED
    assert err.strip() == "desktop-bp: interrupted"


def test_help_and_version_exit_0(capsys) -> None:
    status, out, _ = run(capsys, "--help")
    assert status == EXIT_OK
    assert "train" in out and "gradcheck" in out
    status, out, _ = run(capsys, "train", "--help")
    assert status == EXIT_OK
    assert "--lr" in out
    status, out, _ = run(capsys, "--version")
    assert status == EXIT_OK
    assert out.startswith("desktop-bp ")


def test_no_arguments_start_the_gui(monkeypatch) -> None:
    calls = []
    fake = types.ModuleType("desktop_bp.gui.app")

    def run_app(argv=None):
        calls.append(argv)
        return 0

    fake.run_app = run_app
    monkeypatch.setitem(sys.modules, "desktop_bp.gui.app", fake)
    assert main([]) == 0
    assert calls == [None]


# -- progress bar -----------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_is_throttled_and_clears() -> None:
    stream = FakeTerminal()
    bar = cli.ProgressBar(10_000, stream=stream)
    for done in range(1, 10_001):
        bar.update(done, "loss 0.1")
    text = stream.getvalue()
    # ~10 redraws a second at most: a fast loop draws the first and the final state only.
    assert text.count("\r") <= 5
    assert "10,000/10,000 100%" in text
    assert "it/s" in text and "ETA" in text
    bar.clear()
    assert stream.getvalue().endswith("\r")


def test_progress_bar_is_silent_off_a_terminal() -> None:
    stream = io.StringIO()
    bar = cli.ProgressBar(10, stream=stream)
    bar.update(10)
    bar.clear()
    assert stream.getvalue() == ""


# -- real processes ---------------------------------------------------------------------------


def _run_module(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, "-m", "desktop_bp", *args],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )


def test_subprocess_train_json() -> None:
    done = _run_module("train", "--iters", "200", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["iterations"] == 200
    assert {"seconds", "train_acc", "test_acc", "final_loss", "config", "data"} <= set(summary)
    assert "Traceback" not in done.stderr


def test_subprocess_bad_argument() -> None:
    done = _run_module("train", "--lr", "-1")
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("desktop-bp: error: ")


def test_train_presets_and_single_changes(capsys) -> None:
    status, out, _ = run(capsys, "train", "--preset", "book", "--iters", "30", "--json")
    assert status == EXIT_OK
    summary = last_json(out)
    assert summary["preset"] == "book"
    assert summary["config"] == TrainConfig(iterations=30).to_dict()  # chapter 5 exactly
    status, out, _ = run(
        capsys, "train", "--iters", "30", "--no-augment", "--lr-schedule", "constant", "--json"
    )
    assert status == EXIT_OK
    config = last_json(out)["config"]
    assert (
        config == preset("default", iterations=30, augment=False, lr_schedule="constant").to_dict()
    )
    status, _, err = run(capsys, "train", "--preset", "fast")
    assert status == EXIT_USAGE and err.count("\n") == 1 and "fast" in err
