"""The downloader against a local HTTP server on 127.0.0.1: success and every failure mode.

No test touches the network: mirrors are pointed at a ``ThreadingHTTPServer`` in a thread, and
the data set's file list/hashes are swapped for small fake files (``download.DATASETS`` is meant
to be overridden this way).
"""

from __future__ import annotations

import hashlib
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from desktop_bp.core import data, download
from desktop_bp.core.download import RemoteDataset, RemoteFile, download_dataset, fetch_file
from desktop_bp.core.errors import DownloadCancelled, DownloadError
from desktop_bp.core.idx import write_idx

Route = Callable[[BaseHTTPRequestHandler], None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []
        self.release = threading.Event()  # lets stalled handlers finish at teardown

    def handle_error(self, request, client_address) -> None:
        pass  # resets and client time-outs are what these tests provoke: no tracebacks

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404, "Not Found")
        else:
            route(self)

    def log_message(self, *args: object) -> None:
        pass


def ok(body: bytes, *, length: bool = True) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        if length:
            h.send_header("Content-Length", str(len(body)))
        else:
            h.close_connection = True  # body ends when the connection closes
        h.end_headers()
        h.wfile.write(body)

    return route


def truncated(body: bytes, keep: int) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[:keep])
        h.close_connection = True

    return route


def stalled(body: bytes, *, before_headers: bool) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        if not before_headers:
            h.send_response(200)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body[:10])
            h.wfile.flush()
        h.server.release.wait(10)  # type: ignore[attr-defined]
        h.close_connection = True

    return route


def reset(body: bytes, *, after: int) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        if after:
            h.send_response(200)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body[:after])
            h.wfile.flush()
        # SO_LINGER with a zero timeout makes close() send a TCP RST instead of a FIN.
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()
        h.close_connection = True

    return route


def status_then_ok(code: int, body: bytes, failures: int = 1) -> Route:
    count = {"n": 0}

    def route(h: BaseHTTPRequestHandler) -> None:
        count["n"] += 1
        if count["n"] <= failures:
            h.send_error(code)
        else:
            ok(body)(h)

    return route


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield srv
    finally:
        srv.release.set()
        srv.shutdown()
        srv.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Cache under tmp_path, no proxies, no leftover mirror override."""
    monkeypatch.setenv("DESKTOP_BP_DATA_DIR", str(tmp_path / "data"))
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.delenv("DESKTOP_BP_MNIST_MIRROR", raising=False)
    monkeypatch.delenv("DESKTOP_BP_FASHION_MNIST_MIRROR", raising=False)
    data.clear_cache()
    yield
    data.clear_cache()


@pytest.fixture
def fake_files(tmp_path) -> dict[str, bytes]:
    """Four small but valid gzip IDX files under the canonical names."""
    rng = np.random.default_rng(0)
    src = tmp_path / "src"
    src.mkdir()
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 30, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 12, dtype=np.uint8),
    }
    return {name: write_idx(src / name, a).read_bytes() for name, a in arrays.items()}


def fake_dataset(files: dict[str, bytes], mirrors: tuple[str, ...] = ()) -> RemoteDataset:
    return replace(
        download.MNIST,
        mirrors=mirrors,
        files=tuple(RemoteFile(n, hashlib.sha256(b).hexdigest()) for n, b in files.items()),
    )


@pytest.fixture
def fake_mnist(monkeypatch, server, fake_files) -> RemoteDataset:
    """DATASETS['mnist'] replaced by the fake files, its mirror set to the local server."""
    ds = fake_dataset(fake_files)
    monkeypatch.setitem(download.DATASETS, "mnist", ds)
    monkeypatch.setenv("DESKTOP_BP_MNIST_MIRROR", server.url)
    return ds


def one_file(fake_files: dict[str, bytes]) -> tuple[RemoteFile, bytes]:
    name = "t10k-images-idx3-ubyte.gz"
    body = fake_files[name]
    return RemoteFile(name, hashlib.sha256(body).hexdigest()), body


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


FAST = {"attempts": 1, "retry_delay": 0.0, "timeout": 2.0}


# ---- configuration ---------------------------------------------------------------------------


def test_user_data_dir_precedence(monkeypatch, tmp_path):
    assert download.user_data_dir() == tmp_path / "data"
    monkeypatch.delenv("DESKTOP_BP_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert download.user_data_dir() == tmp_path / "xdg" / "desktop-bp"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert download.user_data_dir() == tmp_path / "home" / ".local" / "share" / "desktop-bp"
    assert download.dataset_dir("fashion-mnist").name == "fashion-mnist"


def test_mirror_override(monkeypatch):
    assert download.mirrors_for(download.MNIST)[0].startswith("https://ossci-datasets")
    monkeypatch.setenv("DESKTOP_BP_MNIST_MIRROR", "http://127.0.0.1:9/m/")
    assert download.mirrors_for(download.MNIST) == ("http://127.0.0.1:9/m/",)
    assert download.mirrors_for(download.FASHION_MNIST) == download.FASHION_MNIST.mirrors


def test_published_hashes_are_pinned():
    mnist = {f.name: f.sha256 for f in download.MNIST.files}
    assert mnist == {
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
        ),
    }
    assert [f.name for f in download.FASHION_MNIST.files] == list(mnist)
    for ds in download.DATASETS.values():
        for f in ds.files:
            assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0
        assert all(m.endswith("/") for m in ds.mirrors)


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="unknown data set 'kmnist'"):
        download.dataset_dir("kmnist")


# ---- success ---------------------------------------------------------------------------------


def test_download_dataset_success_with_progress(server, fake_files, fake_mnist, tmp_path):
    for name, body in fake_files.items():
        server.routes[f"/{name}"] = ok(body)
    calls: list[tuple[int, int, str]] = []
    folder = download_dataset("mnist", progress=lambda d, t, n: calls.append((d, t, n)))
    assert folder == tmp_path / "data" / "mnist"
    assert leftovers(folder) == sorted(fake_files)  # no temp files left
    for name, body in fake_files.items():
        assert (folder / name).read_bytes() == body
        mine = [c for c in calls if c[2] == name]
        assert mine[0] == (0, len(body), name) and mine[-1] == (len(body), len(body), name)
        assert [c[0] for c in mine] == sorted(c[0] for c in mine)
    assert download.missing_files("mnist") == []


def test_verified_files_are_not_fetched_again(server, fake_files, fake_mnist):
    for name, body in fake_files.items():
        server.routes[f"/{name}"] = ok(body)
    download_dataset("mnist")
    assert len(server.hits) == 4
    download_dataset("mnist")
    assert len(server.hits) == 4


def test_wrong_file_on_disk_is_replaced(server, fake_files, fake_mnist, tmp_path):
    for name, body in fake_files.items():
        server.routes[f"/{name}"] = ok(body)
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"stale")
    assert download.missing_files("mnist") == list(fake_files)
    download_dataset("mnist")
    assert (folder / "train-labels-idx1-ubyte.gz").read_bytes() == (
        fake_files["train-labels-idx1-ubyte.gz"]
    )


def test_load_mnist_downloads_on_first_use(server, fake_files, fake_mnist):
    for name, body in fake_files.items():
        server.routes[f"/{name}"] = ok(body)
    seen: set[str] = set()
    (x_train, t_train), (x_test, _) = data.load_mnist(
        source="mnist", progress=lambda d, t, n: seen.add(n)
    )
    assert x_train.shape == (30, 784) and x_test.shape == (12, 784) and t_train.shape == (30,)
    assert seen == set(fake_files)
    data.clear_cache()
    data.load_mnist(source="mnist")  # from the cache folder: no second download
    assert len(server.hits) == 4


def test_no_content_length_uses_known_size(server, fake_files, tmp_path):
    rf, body = one_file(fake_files)
    rf = replace(rf, size=len(body))
    server.routes[f"/{rf.name}"] = ok(body, length=False)
    totals: set[int] = set()
    fetch_file(rf, tmp_path / "out", [server.url], progress=lambda d, t, n: totals.add(t), **FAST)
    assert totals == {len(body)}
    assert (tmp_path / "out" / rf.name).read_bytes() == body


def test_second_mirror_used_when_first_fails(server, fake_files, tmp_path):
    rf, body = one_file(fake_files)
    server.routes[f"/good/{rf.name}"] = ok(body)
    mirrors = [server.url + "bad/", server.url + "good"]  # with and without a trailing slash
    path = fetch_file(rf, tmp_path / "out", mirrors, **FAST)
    assert path.read_bytes() == body
    assert server.hits == [f"/bad/{rf.name}", f"/good/{rf.name}"]


def test_server_error_is_retried(server, fake_files, tmp_path):
    rf, body = one_file(fake_files)
    server.routes[f"/{rf.name}"] = status_then_ok(503, body)
    path = fetch_file(rf, tmp_path / "out", [server.url], attempts=2, retry_delay=0.0)
    assert path.read_bytes() == body and len(server.hits) == 2


# ---- failures: DownloadError, clear message, nothing left behind -----------------------------


def fail(rf: RemoteFile, folder: Path, mirrors: list[str], **kwargs: object) -> str:
    started = time.perf_counter()
    with pytest.raises(DownloadError) as info:
        fetch_file(rf, folder, mirrors, **{**FAST, **kwargs})  # type: ignore[arg-type]
    assert time.perf_counter() - started < 10
    assert leftovers(folder) == []  # no partial file, no temp file
    return str(info.value)


def test_404(server, fake_files, tmp_path):
    rf, _ = one_file(fake_files)
    msg = fail(rf, tmp_path / "out", [server.url])
    assert f"{server.url}{rf.name}: HTTP 404" in msg


def test_404_is_not_retried(server, fake_files, tmp_path):
    rf, _ = one_file(fake_files)
    fail(rf, tmp_path / "out", [server.url], attempts=3)
    assert len(server.hits) == 1


def test_truncated_body(server, fake_files, tmp_path):
    rf, body = one_file(fake_files)
    server.routes[f"/{rf.name}"] = truncated(body, 100)
    msg = fail(rf, tmp_path / "out", [server.url], attempts=2)
    assert f"connection closed after 100 of {len(body)} bytes (2 attempts)" in msg
    assert len(server.hits) == 2  # a short body is worth one more try


def test_wrong_bytes_hash_mismatch(server, fake_files, tmp_path):
    rf, body = one_file(fake_files)
    server.routes[f"/{rf.name}"] = ok(body[:-1] + bytes([body[-1] ^ 0xFF]))
    msg = fail(rf, tmp_path / "out", [server.url])
    assert "wrong file contents (SHA-256" in msg and rf.name in msg


def test_stall_after_headers_times_out(server, fake_files, tmp_path):
    rf, body = one_file(fake_files)
    server.routes[f"/{rf.name}"] = stalled(body, before_headers=False)
    started = time.perf_counter()
    msg = fail(rf, tmp_path / "out", [server.url], timeout=0.3)
    assert "timed out (no data for 0.3 s)" in msg
    assert time.perf_counter() - started < 3


def test_stall_before_headers_times_out(server, fake_files, tmp_path):
    rf, body = one_file(fake_files)
    server.routes[f"/{rf.name}"] = stalled(body, before_headers=True)
    msg = fail(rf, tmp_path / "out", [server.url], timeout=0.3)
    assert "timed out" in msg


@pytest.mark.parametrize("after", [0, 200])
def test_connection_reset(server, fake_files, tmp_path, after):
    rf, body = one_file(fake_files)
    server.routes[f"/{rf.name}"] = reset(body, after=after)
    msg = fail(rf, tmp_path / "out", [server.url])
    assert rf.name in msg
    assert "connection reset by the server" in msg or "closed the connection" in msg


def test_connection_refused_offline(fake_files, tmp_path):
    with socket.socket() as s:  # find a free port, then leave it closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rf, _ = one_file(fake_files)
    msg = fail(rf, tmp_path / "out", [f"http://127.0.0.1:{port}/"])
    assert "connection refused" in msg.lower()


def test_every_mirror_summarised(server, fake_files, tmp_path):
    rf, _ = one_file(fake_files)
    server.routes[f"/b/{rf.name}"] = ok(b"wrong")
    msg = fail(rf, tmp_path / "out", [server.url + "a/", server.url + "b/"])
    lines = [ln for ln in msg.splitlines() if ln.startswith("  - ")]
    assert len(lines) == 2
    assert "/a/" in lines[0] and "HTTP 404" in lines[0]
    assert "/b/" in lines[1] and "SHA-256" in lines[1]


def test_download_dataset_error_names_dataset_and_folder(server, fake_files, fake_mnist, tmp_path):
    with pytest.raises(DownloadError) as info:
        download_dataset("mnist", **FAST)
    msg = str(info.value)
    assert msg.startswith("MNIST download failed")
    assert str(tmp_path / "data" / "mnist") in msg
    assert leftovers(tmp_path / "data" / "mnist") == []


def test_load_mnist_offline_raises_download_error(server, fake_files, fake_mnist):
    with pytest.raises(DownloadError, match="HTTP 404"):
        data.load_mnist(source="mnist")


# ---- cancel and interrupt --------------------------------------------------------------------


def test_cancel_via_progress(server, fake_files, tmp_path):
    rf, body = one_file(fake_files)
    server.routes[f"/{rf.name}"] = ok(body * 40)  # long enough for several chunks
    rf = replace(rf, sha256=hashlib.sha256(body * 40).hexdigest())
    calls: list[int] = []

    def progress(done: int, total: int, name: str) -> bool:
        calls.append(done)
        return done < 70_000  # stop once a chunk or two has arrived

    with pytest.raises(DownloadCancelled, match="cancelled"):
        fetch_file(rf, tmp_path / "out", [server.url], progress=progress, **FAST)
    assert leftovers(tmp_path / "out") == []
    assert len(calls) >= 2
    assert issubclass(DownloadCancelled, DownloadError)


def test_cancel_before_first_byte(server, fake_files, fake_mnist, tmp_path):
    for name, body in fake_files.items():
        server.routes[f"/{name}"] = ok(body)
    with pytest.raises(DownloadCancelled):
        download_dataset("mnist", progress=lambda d, t, n: False)
    assert leftovers(tmp_path / "data" / "mnist") == []


def test_keyboard_interrupt_leaves_nothing(server, fake_files, tmp_path):
    rf, body = one_file(fake_files)
    server.routes[f"/{rf.name}"] = ok(body)

    def progress(done: int, total: int, name: str) -> None:
        if done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch_file(rf, tmp_path / "out", [server.url], progress=progress, **FAST)
    assert leftovers(tmp_path / "out") == []


def test_unwritable_destination(fake_files, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    rf, _ = one_file(fake_files)
    with pytest.raises(DownloadError, match="cannot create"):
        fetch_file(rf, blocker / "sub", ["http://127.0.0.1:9/"], **FAST)


def test_verified_file_survives_failure_of_others(server, fake_files, fake_mnist, tmp_path):
    # A file already verified under its real name is kept; the failing ones leave nothing.
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    name = "train-labels-idx1-ubyte.gz"
    (folder / name).write_bytes(fake_files[name])
    with pytest.raises(DownloadError):
        download_dataset("mnist", **FAST)
    assert leftovers(folder) == [name]
    assert server.hits == ["/train-images-idx3-ubyte.gz"]  # the good file was not re-fetched


def test_oversized_body_refused_while_streaming(server, fake_files, tmp_path):
    rf, body = one_file(fake_files)
    rf = replace(rf, size=len(body))
    server.routes[f"/{rf.name}"] = ok(body * 50, length=False)  # no Content-Length to go on
    msg = fail(rf, tmp_path / "out", [server.url])
    assert f"more than the expected {len(body)} bytes" in msg


def test_oversized_content_length_refused_up_front(server, fake_files, tmp_path):
    rf, body = one_file(fake_files)
    rf = replace(rf, size=len(body))
    server.routes[f"/{rf.name}"] = ok(body + b"extra")
    msg = fail(rf, tmp_path / "out", [server.url])
    assert f"announces {len(body) + 5} bytes" in msg


def test_malformed_mirror_url(monkeypatch, fake_files, fake_mnist, tmp_path):
    monkeypatch.setenv("DESKTOP_BP_MNIST_MIRROR", "not a url")
    with pytest.raises(DownloadError, match="invalid URL"):
        download_dataset("mnist", **FAST)


def test_stale_temp_files_removed_fresh_ones_kept(server, fake_files, fake_mnist, tmp_path):
    for name, body in fake_files.items():
        server.routes[f"/{name}"] = ok(body)
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    stale = folder / ".train-images-idx3-ubyte.gz.abc123.part"
    fresh = folder / ".train-images-idx3-ubyte.gz.def456.part"  # another live download's
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    download_dataset("mnist")
    assert not stale.exists() and fresh.exists()


def test_fashion_mnist_has_its_own_mirror_variable(server, fake_files, monkeypatch, tmp_path):
    ds = replace(fake_dataset(fake_files), key="fashion-mnist", title="Fashion-MNIST")
    ds = replace(ds, mirror_env="DESKTOP_BP_FASHION_MNIST_MIRROR")
    monkeypatch.setitem(download.DATASETS, "fashion-mnist", ds)
    monkeypatch.setenv("DESKTOP_BP_FASHION_MNIST_MIRROR", server.url + "fashion/")
    for name, body in fake_files.items():
        server.routes[f"/fashion/{name}"] = ok(body)
    (x_train, _), _ = data.load_mnist(source="fashion-mnist")
    assert x_train.shape == (30, 784)
    assert leftovers(tmp_path / "data" / "fashion-mnist") == sorted(fake_files)
