"""The console's job page for a workload: the convergence chart, the best value and parameters."""

from __future__ import annotations

import re

import pytest

from qumulus.console import charts
from tests.conftest import Api
from tests.console.helpers import login, set_password
from tests.workloads._bodies import H2_EXACT, optimization


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_job_page_shows_progress_chart_and_best_parameters(api: Api) -> None:
    job = api.wait(api.post("/v0.4/jobs", json=optimization("COBYLA", maxiter=30)).json()["id"], timeout=120)
    assert job["status"] == "completed"
    set_password(api.platform, "admin@localhost")
    client = login(api.client.app, "admin@localhost")
    page = client.get(f"/console/jobs/{job['id']}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Optimization progress" in html and 'class="chart convergence-chart"' in html
    points = re.findall(r'data-iteration="(\d+)"', html)
    assert [int(p) for p in points] == list(range(1, len(points) + 1)) and len(points) > 5
    best = float(re.search(r'data-best-value="([-0-9.e]+)"', html).group(1))
    assert abs(best - H2_EXACT) < 0.05
    assert job["results"]["solution"]["minimum_value"] == pytest.approx(best)
    assert "Best parameters" in html and 'class="point best"' in html
    panel = client.get(f"/console/jobs/{job['id']}/panel")
    assert panel.status_code == 200 and "convergence-chart" in panel.text


def test_convergence_svg_marks_the_best_point() -> None:
    svg = charts.convergence_svg([(1, -1.0), (2, -1.5), (3, -1.2)], best=2, title="t")
    assert svg.count("<circle") == 3 and 'class="point best" data-iteration="2"' in svg
    assert charts.convergence_svg([], title="t") == ""
    flat = charts.convergence_svg([(1, 2.0), (2, 2.0)], best=1, title="flat")
    assert "nan" not in flat
