"""``desktop-bp download mnist`` end to end against a local HTTP server on 127.0.0.1 (issue 6).

The mirror is pointed at the server with DESKTOP_BP_MNIST_MIRROR and the data set's file list
is swapped for four small valid IDX files with their own SHA-256 (as tests/core/test_download.py
does); the command runs in-process through ``main([...])``. Checked: success (exit 0, files in
DESKTOP_BP_DATA_DIR, then usable by ``train --data mnist``), and failures (404, wrong bytes,
truncated body, connection refused) each give one ``desktop-bp: error:`` line, exit 1, no
traceback and no partial or temporary file.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from desktop_bp.cli import EXIT_FAILED, EXIT_OK, main
from desktop_bp.core import data, download
from desktop_bp.core.download import RemoteFile
from desktop_bp.core.idx import write_idx

NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.files: dict[str, bytes] = {}  # path -> body; anything else is a 404
        self.truncate: dict[str, int] = {}  # path -> bytes actually sent
        self.hits: list[str] = []

    def handle_error(self, request, client_address) -> None:
        pass

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        body = self.server.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        keep = self.server.truncate.get(self.path)
        self.wfile.write(body if keep is None else body[:keep])
        if keep is not None:
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("DESKTOP_BP_DATA_DIR", str(folder))
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.delenv("DESKTOP_BP_FASHION_MNIST_MIRROR", raising=False)
    data.clear_cache()
    yield folder
    data.clear_cache()


@pytest.fixture
def fake_files(tmp_path, monkeypatch, data_dir) -> dict[str, bytes]:
    """Four small valid gzip IDX files; DATASETS['mnist'] expects exactly their hashes."""
    rng = np.random.default_rng(0)
    src = tmp_path / "src"
    src.mkdir()
    arrays = {
        NAMES[0]: rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
        NAMES[1]: rng.integers(0, 10, 30, dtype=np.uint8),
        NAMES[2]: rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        NAMES[3]: rng.integers(0, 10, 12, dtype=np.uint8),
    }
    files = {name: write_idx(src / name, a).read_bytes() for name, a in arrays.items()}
    dataset = replace(
        download.MNIST,
        files=tuple(RemoteFile(n, hashlib.sha256(b).hexdigest()) for n, b in files.items()),
    )
    monkeypatch.setitem(download.DATASETS, "mnist", dataset)
    return files


def use_mirror(monkeypatch, url: str) -> None:
    monkeypatch.setenv("DESKTOP_BP_MNIST_MIRROR", url)


def serve_all(server: Server, files: dict[str, bytes]) -> None:
    for name, body in files.items():
        server.files[f"/{name}"] = body


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def error_line(err: str) -> str:
    """The one ``desktop-bp: error:`` line; every other stderr line is a progress line."""
    assert "Traceback" not in err
    errors = [ln for ln in err.splitlines() if ln.startswith("desktop-bp: error: ")]
    assert len(errors) == 1, err
    others = [ln for ln in err.splitlines() if not ln.startswith("desktop-bp: error: ")]
    assert all(ln.startswith("desktop-bp: downloading ") for ln in others), err
    return errors[0]


def contents(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


# -- success ------------------------------------------------------------------------------------


def test_download_success_exit_0(capsys, monkeypatch, server, fake_files, data_dir) -> None:
    serve_all(server, fake_files)
    use_mirror(monkeypatch, server.url)
    status, out, err = run(capsys, "download", "mnist")
    assert status == EXIT_OK, err
    target = data_dir / "mnist"
    assert str(target) in out and "files ready" in out
    assert contents(target) == sorted(NAMES)
    for name, body in fake_files.items():
        assert (target / name).read_bytes() == body
    assert sorted(server.hits) == sorted(f"/{n}" for n in NAMES)
    for name in NAMES:  # off a terminal: one progress line per file
        assert f"desktop-bp: downloading {name}" in err

    # Again: the verified files are not fetched a second time.
    server.hits.clear()
    status, out, _ = run(capsys, "download", "mnist")
    assert status == EXIT_OK and server.hits == []

    # And the downloaded set is what `--data mnist` trains on.
    status, out, err = run(capsys, "train", "--data", "mnist", "--iters", "3", "--json")
    assert status == EXIT_OK, err
    assert '"train_size": 30' in out and '"test_size": 12' in out
    assert server.hits == []


# -- failures -----------------------------------------------------------------------------------


def test_404_is_one_line_exit_1_no_partial_file(
    capsys, monkeypatch, server, fake_files, data_dir
) -> None:
    use_mirror(monkeypatch, server.url)  # serves nothing: every file is a 404
    status, out, err = run(capsys, "download", "mnist")
    assert status == EXIT_FAILED
    assert out == ""
    line = error_line(err)
    assert "MNIST" in line and "HTTP 404" in line and server.url in line
    assert contents(data_dir / "mnist") == []
    assert len(server.hits) == 1  # the first file failed; a 404 is not retried


def test_one_missing_file_keeps_the_verified_ones_only(
    capsys, monkeypatch, server, fake_files, data_dir
) -> None:
    serve_all(server, fake_files)
    del server.files[f"/{NAMES[2]}"]
    use_mirror(monkeypatch, server.url)
    status, _, err = run(capsys, "download", "mnist")
    assert status == EXIT_FAILED
    line = error_line(err)
    assert NAMES[2] in line and "HTTP 404" in line
    left = contents(data_dir / "mnist")
    assert NAMES[2] not in left
    assert all(name in NAMES for name in left), left  # no .part/temporary files
    for name in left:  # what is kept is complete and verified
        assert (data_dir / "mnist" / name).read_bytes() == fake_files[name]

    # Fixed mirror: the next run fetches only what is missing.
    serve_all(server, fake_files)
    server.hits.clear()
    status, _, err = run(capsys, "download", "mnist")
    assert status == EXIT_OK, err
    assert f"/{NAMES[2]}" in server.hits and f"/{NAMES[0]}" not in server.hits
    assert contents(data_dir / "mnist") == sorted(NAMES)


def test_wrong_bytes_fail_the_hash_check(capsys, monkeypatch, server, fake_files, data_dir) -> None:
    serve_all(server, fake_files)
    server.files[f"/{NAMES[0]}"] = b"\x1f\x8b not the real file" * 10
    use_mirror(monkeypatch, server.url)
    status, _, err = run(capsys, "download", "mnist")
    assert status == EXIT_FAILED
    assert "SHA-256" in error_line(err)
    assert NAMES[0] not in contents(data_dir / "mnist")
    assert all(name in NAMES for name in contents(data_dir / "mnist"))


def test_truncated_body_leaves_no_partial_file(
    capsys, monkeypatch, server, fake_files, data_dir
) -> None:
    serve_all(server, fake_files)
    server.truncate[f"/{NAMES[0]}"] = len(fake_files[NAMES[0]]) // 2
    use_mirror(monkeypatch, server.url)
    monkeypatch.setattr(download.time, "sleep", lambda seconds: None)  # no retry back-off
    status, _, err = run(capsys, "download", "mnist")
    assert status == EXIT_FAILED
    error_line(err)
    assert contents(data_dir / "mnist") == []


def test_offline_connection_refused(capsys, monkeypatch, fake_files, data_dir) -> None:
    with socket.socket() as s:  # a free port, left closed: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    use_mirror(monkeypatch, f"http://127.0.0.1:{port}/")
    monkeypatch.setattr(download.time, "sleep", lambda seconds: None)
    status, out, err = run(capsys, "download", "mnist")
    assert status == EXIT_FAILED
    assert out == ""
    line = error_line(err)
    assert "connection refused" in line.lower()
    assert f"127.0.0.1:{port}" in line
    assert contents(data_dir / "mnist") == []


def test_train_on_mnist_offline_is_one_line(capsys, monkeypatch, fake_files, data_dir) -> None:
    """``train --data mnist`` downloads on first use: offline, it fails the same clear way."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    use_mirror(monkeypatch, f"http://127.0.0.1:{port}/")
    monkeypatch.setattr(download.time, "sleep", lambda seconds: None)
    status, out, err = run(capsys, "train", "--data", "mnist", "--iters", "3")
    assert status == EXIT_FAILED
    assert out == ""
    assert "connection refused" in error_line(err).lower()
