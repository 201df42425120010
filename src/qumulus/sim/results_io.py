"""Store and stream results: big dense distributions as raw ``.npy``, JSON as a stream.

Why this format: a 26-qubit dense distribution is 512 MiB of float64. ``.npy`` is a 128-byte header
followed by the raw array, so writing it is one ``write`` (disk bound) and reading it is one
``read`` or, with ``mmap=True``, no read at all until pages are touched. Compression would cost
seconds and gain nothing on high-entropy probabilities. Nothing here pickles.

* dense distribution, no shots → a plain ``.npy`` of the float64 values (qubits = log2 of length);
* sparse distribution, or per-shot outcomes attached → an *uncompressed* ``.npz`` holding
  ``qubits``, ``values``, optionally ``indices`` (uint64) and ``outcomes`` (uint64).

The format is recognised from the file's magic bytes, never from its name (numpy would otherwise
append ``.npy`` to paths without it, so files are written through an open handle).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator

import numpy as np

from qumulus.sim.engine import Distribution

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
#: Entries per slice when streaming a dense vector to JSON (8 MiB of float64).
JSON_CHUNK = 1 << 20
#: Entries converted and written per slice when saving a dense vector.
WRITE_CHUNK = 1 << 20

PathLike = str | os.PathLike[str]


def save_distribution(
    path: PathLike,
    dist: Distribution,
    *,
    outcomes: np.ndarray | None = None,
    dtype: type[np.floating] | None = None,
) -> None:
    """Write ``dist`` (and optionally per-shot outcomes) to ``path``, overwriting it.

    ``dtype=np.float32`` stores a dense vector at single precision (what a float32 engine computed):
    half the bytes, converted slice by slice so no second state-sized array is allocated. At 26
    qubits the write is the platform's largest cost after the simulation itself.
    """
    if dist.indices is None and outcomes is None:
        values = np.asarray(dist.values)
        if values.ndim != 1 or values.size != 1 << dist.qubits:
            raise ValueError(f"dense distribution has {values.size} values, expected 2**{dist.qubits}")
        target = np.dtype(dtype or (np.float32 if values.dtype == np.float32 else np.float64))
        with open(path, "wb") as handle:
            np.lib.format.write_array_header_1_0(
                handle, {"descr": np.lib.format.dtype_to_descr(target), "fortran_order": False,
                         "shape": (values.size,)}
            )  # fmt: skip
            step = WRITE_CHUNK
            for start in range(0, values.size, step):
                handle.write(np.ascontiguousarray(values[start : start + step], dtype=target).data)
        return
    values = np.ascontiguousarray(dist.values, dtype=np.float64)
    arrays: dict[str, np.ndarray] = {"qubits": np.array(dist.qubits, dtype=np.int64), "values": values}
    if dist.indices is not None:
        arrays["indices"] = np.ascontiguousarray(dist.indices, dtype=np.uint64)
    if outcomes is not None:
        arrays["outcomes"] = np.ascontiguousarray(outcomes, dtype=np.uint64)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def load_distribution(path: PathLike, *, mmap: bool = False) -> Distribution:
    """Read a distribution written by :func:`save_distribution`.

    ``mmap=True`` maps a dense ``.npy`` read-only instead of reading it (instant, pages load on use).
    """
    kind = _kind(path)
    if kind == "npy":
        values = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        qubits = int(values.size).bit_length() - 1
        if values.ndim != 1 or values.size != 1 << qubits:
            raise ValueError(f"{os.fspath(path)}: not a dense distribution (length {values.size})")
        return Distribution(qubits=qubits, values=values)
    with np.load(path, allow_pickle=False) as archive:
        indices = archive["indices"] if "indices" in archive.files else None
        return Distribution(qubits=int(archive["qubits"]), values=archive["values"], indices=indices)


def load_outcomes(path: PathLike) -> np.ndarray | None:
    """The per-shot outcomes stored with a distribution, or ``None`` if there are none."""
    if _kind(path) == "npy":
        return None
    with np.load(path, allow_pickle=False) as archive:
        return archive["outcomes"] if "outcomes" in archive.files else None


def _kind(path: PathLike) -> str:
    with open(path, "rb") as handle:
        head = handle.read(6)
    if head.startswith(_NPY_MAGIC):
        return "npy"
    if head.startswith(_ZIP_MAGIC) and zipfile.is_zipfile(path):
        return "npz"
    raise ValueError(f"{os.fspath(path)}: not a saved distribution")


def iter_json_items(dist: Distribution) -> Iterator[tuple[str, float]]:
    """``(str(index), probability)`` in ascending index order, zeros omitted (wire spec §5.1).

    Walks a dense vector in slices so no index array as big as the state is ever built: memory stays
    flat however many qubits, and the first item comes out at once.
    """
    if dist.indices is not None:
        yield from _pairs(dist.indices, dist.values)
        return
    values = dist.values
    for start in range(0, values.size, JSON_CHUNK):
        chunk = values[start : start + JSON_CHUNK]
        local = np.flatnonzero(chunk > 0)
        yield from _pairs(local + start, chunk[local])


def _pairs(indices: np.ndarray, values: np.ndarray) -> Iterator[tuple[str, float]]:
    return zip(map(str, indices.tolist()), values.tolist(), strict=True)


def iter_json_text(dist: Distribution, *, items_per_piece: int = 65536) -> Iterator[str]:
    """The distribution as a JSON object, in pieces ready to write to a socket or file.

    Same order and values as :func:`iter_json_items`; floats use ``repr`` (shortest round-trip), so
    ``json.loads`` of the joined pieces gives back exactly the stored float64 values.
    """
    yield "{"
    first = True
    batch: list[str] = []
    for key, value in iter_json_items(dist):
        batch.append(f'"{key}":{value!r}')
        if len(batch) >= items_per_piece:
            yield ("" if first else ",") + ",".join(batch)
            first = False
            batch = []
    if batch:
        yield ("" if first else ",") + ",".join(batch)
    yield "}"
