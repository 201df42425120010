"""Server outcomes read as a Qiskit circuit's clbits: the same strings Qiskit's ``Result`` prints, a
compact record for long lists, and the record of jobs submitted before it still read."""

from __future__ import annotations

import json
import random

import pytest

from qumulus.client import clbits
from qumulus.client.clbits import ClbitLayout


def test_bits_match_qiskits_own_formatting_for_random_layouts() -> None:
    pytest.importorskip("qiskit")
    from qiskit.result import Result

    rng = random.Random(19)
    for _ in range(200):
        qubits = rng.randint(1, 5)
        sizes = [rng.randint(1, 3) for _ in range(rng.randint(1, 3))]
        num_clbits = sum(sizes)
        sources = tuple(rng.choice([None, *range(qubits)]) for _ in range(num_clbits))
        layout = ClbitLayout(sources, num_clbits, tuple((f"c{i}", s) for i, s in enumerate(sizes)))
        outcomes = {rng.randrange(2**qubits): rng.randint(1, 9) for _ in range(4)}
        counts: dict[str, int] = {}
        for outcome, n in outcomes.items():
            counts[hex(layout.value(outcome))] = counts.get(hex(layout.value(outcome)), 0) + n
        qiskit = Result.from_dict(
            {
                "backend_name": "b",
                "backend_version": "1",
                "job_id": "j",
                "success": True,
                "results": [
                    {
                        "shots": 1,
                        "success": True,
                        "data": {"counts": counts},
                        "header": {
                            "memory_slots": num_clbits,
                            "creg_sizes": [[n, s] for n, s in layout.creg_sizes],
                        },
                    }
                ],
            }
        ).get_counts()
        ours: dict[str, int] = {}
        for outcome, n in outcomes.items():
            ours[layout.bits(outcome)] = ours.get(layout.bits(outcome), 0) + n
        assert ours == dict(qiskit)


def test_value_reads_each_clbit_from_its_qubit() -> None:
    layout = ClbitLayout((2, None, 0), 3, (("c", 3),))  # clbit 0 ← qubit 2, clbit 2 ← qubit 0
    assert layout.value(0b001) == 0b100 and layout.value(0b100) == 0b001 and layout.value(0b010) == 0
    assert layout.bits(0b101) == "101"


def test_a_long_list_of_equal_layouts_is_stored_once() -> None:
    a = ClbitLayout((0, 1), 2, (("c", 2),), "bell")
    b = ClbitLayout((1,), 1, (("m", 1),), "flip")
    layouts = [a] * 1000 + [b] + [a] * 2 + [None]
    raw = clbits.encode(layouts)
    assert len(raw) < 200
    assert clbits.decode(raw) == layouts


def test_the_first_form_of_the_record_is_still_read() -> None:
    raw = json.dumps([[[0, 1], 2, [["c", 2]], "bell"], [[None, 0], 2, [["a", 1], ["b", 1]], "x"]])
    first, second = clbits.decode(raw)  # type: ignore[misc]
    assert first == ClbitLayout((0, 1), 2, (("c", 2),), "bell")
    assert second.bits(1) == "1 0" and clbits.from_metadata({}) is None
