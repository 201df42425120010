"""Distribution storage round trips, the dense/sparse decision, and streamed JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qumulus.sim.engine import Distribution
from qumulus.sim.results_io import (
    iter_json_items,
    iter_json_text,
    load_distribution,
    load_outcomes,
    save_distribution,
)


def _random_dense(qubits: int, seed: int = 0) -> Distribution:
    values = np.random.default_rng(seed).random(1 << qubits)
    return Distribution(qubits=qubits, values=values / values.sum())


def test_dense_round_trip_is_plain_npy_without_suffix(tmp_path) -> None:
    dist = _random_dense(12)
    path = tmp_path / "result"  # no extension: numpy must not append one
    save_distribution(path, dist)
    assert path.exists() and path.read_bytes()[:6] == b"\x93NUMPY"
    assert np.load(path).dtype == np.float64  # readable by anything that reads .npy
    for mmap in (False, True):
        back = load_distribution(path, mmap=mmap)
        assert back.qubits == 12 and back.indices is None
        np.testing.assert_array_equal(back.values, dist.values)


def test_sparse_round_trip_and_outcomes(tmp_path) -> None:
    dist = Distribution(
        qubits=40, values=np.array([0.5, 0.5]), indices=np.array([0, (1 << 40) - 1], dtype=np.uint64)
    )
    outcomes = np.array([0, (1 << 40) - 1, 0], dtype=np.uint64)
    path = tmp_path / "sparse.bin"
    save_distribution(path, dist, outcomes=outcomes)
    back = load_distribution(path)
    assert back.qubits == 40 and back.sparse
    np.testing.assert_array_equal(back.indices, dist.indices)
    np.testing.assert_array_equal(back.values, dist.values)
    np.testing.assert_array_equal(load_outcomes(path), outcomes)
    save_distribution(path, dist)
    assert load_outcomes(path) is None


def test_dense_with_outcomes_goes_to_npz(tmp_path) -> None:
    dist = _random_dense(3)
    path = tmp_path / "d"
    save_distribution(path, dist, outcomes=np.array([1, 2, 3]))
    back = load_distribution(path)
    assert back.qubits == 3 and not back.sparse
    np.testing.assert_array_equal(load_outcomes(path), [1, 2, 3])
    dense_only = tmp_path / "e"
    save_distribution(dense_only, dist)
    assert load_outcomes(dense_only) is None


def test_rejects_foreign_files(tmp_path) -> None:
    path = tmp_path / "junk"
    path.write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not a saved distribution"):
        load_distribution(path)
    np.save(tmp_path / "bad.npy", np.ones(3))
    with pytest.raises(ValueError, match="not a dense distribution"):
        load_distribution(tmp_path / "bad.npy")


def test_json_items_ascending_skip_zeros_and_cross_chunks(monkeypatch) -> None:
    import qumulus.sim.results_io as rio

    monkeypatch.setattr(rio, "JSON_CHUNK", 4)
    values = np.array([0.0, 0.25, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0, 0, 0, 0])
    items = list(iter_json_items(Distribution(qubits=4, values=values)))
    assert items == [("1", 0.25), ("5", 0.5), ("11", 0.25)]
    sparse = Distribution(
        qubits=4, values=np.array([0.25, 0.5, 0.25]), indices=np.array([1, 5, 11], dtype=np.uint64)
    )
    assert list(iter_json_items(sparse)) == items


def test_json_text_round_trips_exactly() -> None:
    dist = _random_dense(10, seed=3)
    text = "".join(iter_json_text(dist, items_per_piece=100))
    parsed = json.loads(text)
    assert list(parsed) == [str(i) for i in range(1 << 10)]
    np.testing.assert_array_equal(np.array(list(parsed.values())), dist.values)
    assert json.loads("".join(iter_json_text(Distribution(qubits=1, values=np.array([1.0, 0.0]))))) == {
        "0": 1.0
    }


def test_from_dense_picks_representation() -> None:
    n = 16
    ghz = np.zeros(1 << n)
    ghz[[0, -1]] = 0.5
    sparse = Distribution.from_dense(ghz, n)
    assert sparse.sparse and sparse.indices.tolist() == [0, (1 << n) - 1]
    assert Distribution.from_dense(_random_dense(n).values, n).indices is None
    # Low qubits all |0>: non-zeros every 64th entry. The odd-stride sample must not be fooled.
    strided = np.zeros(1 << n)
    strided[::64] = 1 / (1 << (n - 6))
    assert Distribution.from_dense(strided, n).sparse
    # Just below / above the 25 % threshold, decided by the exact count.
    quarter = np.zeros(1 << n)
    quarter[: (1 << n) // 4] = 1
    assert Distribution.from_dense(quarter, n).sparse
    quarter[(1 << n) // 4] = 1
    assert not Distribution.from_dense(quarter, n).sparse


def test_dense_saved_at_single_precision_halves_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(5)
    values = rng.random(1 << 12)
    values /= values.sum()
    dist = Distribution(qubits=12, values=values)
    save_distribution(tmp_path / "d64.npy", dist)
    save_distribution(tmp_path / "d32.npy", dist, dtype=np.float32)
    back = load_distribution(tmp_path / "d32.npy")
    assert back.values.dtype == np.float32 and back.qubits == 12
    np.testing.assert_allclose(back.values, values, rtol=1e-6)
    assert (tmp_path / "d32.npy").stat().st_size < 0.51 * (tmp_path / "d64.npy").stat().st_size


@pytest.mark.parametrize("dtype", [np.float32, None])
def test_large_dense_results_round_trip_through_direct_io(tmp_path, dtype) -> None:  # type: ignore[no-untyped-def]
    """From 16 MiB on, dense vectors are written past the page cache (O_DIRECT) where the file
    system allows it; the file is still a plain .npy that numpy and the platform read back exactly."""
    import os

    from qumulus.sim import results_io

    dist = _random_dense(22 if dtype is np.float32 else 21, seed=3)  # 16 MiB either way
    path = tmp_path / "large"
    save_distribution(path, dist, dtype=dtype)
    expected = np.asarray(dist.values, dtype=dtype or np.float64)
    assert np.load(path).dtype == expected.dtype
    for mmap in (False, True):
        back = load_distribution(path, mmap=mmap)
        assert back.qubits == dist.qubits
        np.testing.assert_array_equal(back.values, expected)
    probe = tmp_path / "probe"
    direct = results_io._write_direct(probe, expected[:1024], expected.dtype)  # does this FS take it?
    header = results_io.DIRECT_HEADER_BYTES if direct else None
    if header is not None:  # the data starts on a block boundary: the direct path wrote it
        assert os.path.getsize(path) == header + expected.nbytes


def test_direct_io_falls_back_where_the_file_system_refuses_it(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A file system without direct I/O (EINVAL at open, as on older tmpfs, or at the first write)
    gets the buffered write instead: the same file, and nothing half-written left behind."""
    import errno
    import os

    from qumulus.sim import results_io

    if not hasattr(os, "O_DIRECT"):
        pytest.skip("no O_DIRECT on this platform: the buffered path is the only one")
    dist = _random_dense(22, seed=5)
    real_open, real_write = os.open, os.write
    calls = {"refused": 0}

    def refusing_open(path, flags, *args):  # type: ignore[no-untyped-def]
        if flags & os.O_DIRECT:
            calls["refused"] += 1
            raise OSError(errno.EINVAL, "direct I/O not supported")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refusing_open)
    save_distribution(tmp_path / "a", dist, dtype=np.float32)
    monkeypatch.setattr(os, "open", real_open)
    assert calls["refused"] == 1

    def refusing_write(fd, data):  # type: ignore[no-untyped-def]
        raise OSError(errno.EINVAL, "unaligned")

    monkeypatch.setattr(os, "write", refusing_write)
    assert (
        results_io._write_direct(tmp_path / "b", np.asarray(dist.values, np.float32), np.dtype(np.float32))
        is False
    )
    monkeypatch.setattr(os, "write", real_write)
    assert not (tmp_path / "b").exists()
    back = load_distribution(tmp_path / "a")
    np.testing.assert_array_equal(back.values, np.asarray(dist.values, dtype=np.float32))
