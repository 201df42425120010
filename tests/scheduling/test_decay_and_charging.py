"""Forward decay and fair-share charging: pure arithmetic a tenant's position depends on."""

from __future__ import annotations

import math

from qumulus.scheduling.charging import ShareTerm, Usage, charges, estimate, org_share
from qumulus.scheduling.decay import REBASE_EXPONENT, accrue, decayed, weight
from qumulus.scheduling.policy import Window

H = 3600.0


def test_usage_halves_every_half_life() -> None:
    g = 10.0 * weight(1000.0, 0.0, H)
    assert math.isclose(decayed(g, 0.0, 1000.0, H), 10.0)
    assert math.isclose(decayed(g, 0.0, 1000.0 + H, H), 5.0)
    assert math.isclose(decayed(g, 0.0, 1000.0 + 3 * H, H), 1.25)


def test_a_rebase_keeps_the_decayed_value_and_bounds_the_weights() -> None:
    epoch, g = 0.0, 0.0
    t = 0.0
    for _ in range(200):  # 200 charges a half-life apart: far past 2^64 without rebasing
        a = accrue(epoch, t, H)
        g, epoch = g * a.scale + 1.0 * a.weight, a.epoch
        t += H
    assert g < 2.0 ** (REBASE_EXPONENT + 2)
    # Σ_k 2^-k for the 200 charges, seen one half-life after the last one: just under 1.
    assert math.isclose(decayed(g, epoch, t, H), 1.0, rel_tol=1e-9)


def test_reserved_usage_is_billed_elsewhere_but_not_charged_to_fair_share() -> None:
    window = Window("A", "qpu", 100.0, 200.0)
    inside = Usage("A", "a", "qpu", 5.0, started_at=150.0, finished_at=155.0)
    outside = Usage("A", "a", "qpu", 7.0, started_at=250.0, finished_at=257.0)
    other_org = Usage("B", "b", "qpu", 3.0, started_at=90.0, finished_at=93.0)
    got = {(c.kind, c.entity_id): c.seconds for c in charges([inside, outside, other_org], [window])}
    assert got == {
        ("org", "A"): 7.0,
        ("project", "a"): 7.0,
        ("org", "B"): 3.0,
        ("project", "b"): 3.0,
        ("backend", "qpu"): 15.0,
    }


def test_the_estimate_is_the_mean_of_history_or_the_default() -> None:
    assert estimate(0.0, 0.0, default=2.5) == 2.5
    assert estimate(30.0, 3.0) == 10.0


def test_the_most_specific_contract_gives_the_share() -> None:
    terms = [ShareTerm("*", 1.0), ShareTerm("qpu.*", 5.0), ShareTerm("qpu.forte-1", 50.0)]
    assert org_share(terms, "qpu.forte-1") == 50.0
    assert org_share(terms, "qpu.aria-1") == 5.0
    assert org_share(terms, "simulator") == 1.0
    assert org_share([], "simulator") == 1.0
