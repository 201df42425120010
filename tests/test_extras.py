"""Issue 16.15: the extras in pyproject.toml must install what each distributed role imports.

``pip install 'qumulus[ray]'`` (as docs/distributed.md says) gave a worker that died with
``ModuleNotFoundError: psycopg``: the ``ray`` extra named Ray alone. This test starts the worker's
import path in a fresh interpreter (the modules ``qumulus worker`` loads, and the PostgreSQL engine
it makes, which loads psycopg), maps every third-party module it loaded to its distribution, and
checks each one is required — directly or through what it requires — by the extra the docs name.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent

#: What a worker process imports: its command, the platform it opens, the executors and the task
#: runner, and the PostgreSQL engine (SQLAlchemy loads the driver when the engine is made).
WORKER_IMPORTS = """
import json, sys
before = set(sys.modules)  # what the interpreter loads by itself (site hooks such as _distutils_hack)
import qumulus.cli.main, qumulus.cli.distributed, qumulus.platform.distributed
import qumulus.runtime.worker, qumulus.runtime.tasks, qumulus.runtime.ray_executor, qumulus.runtime.executor
import qumulus.runtime.maintenance
from qumulus.store.db import make_engine
make_engine("postgresql://qumulus@127.0.0.1:1/none")
print(json.dumps(sorted({name.split(".")[0] for name in set(sys.modules) - before})))
"""


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _extra_requirements(extra: str) -> list[Requirement]:
    """The requirements ``qumulus[extra]`` installs, self-references (``qumulus[server]``) expanded."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found: list[Requirement] = [Requirement(r) for r in project["dependencies"]]
    todo, seen = [extra], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in project["optional-dependencies"][name]:
            req = Requirement(text)
            if _canonical(req.name) == "qumulus":
                todo.extend(req.extras)
            elif req.marker is None or req.marker.evaluate():
                found.append(req)
    return found


def _closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution those requirements pull in (through the installed distributions' metadata)."""
    names: set[str] = set()
    todo = [(r.name, set(r.extras)) for r in requirements]
    while todo:
        name, extras = todo.pop()
        key = _canonical(name)
        if key in names:
            continue
        names.add(key)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here (e.g. ray): nothing more to follow
        for text in requires:
            req = Requirement(text)
            env_ok = req.marker is None or any(req.marker.evaluate({"extra": e}) for e in (extras or {""}))
            if env_ok:
                todo.append((req.name, set(req.extras)))
    return names


@pytest.mark.parametrize("extra", ["ray", "server"])
def test_the_extra_the_docs_name_installs_everything_a_worker_imports(extra: str) -> None:
    docs = (ROOT / "docs" / "distributed.md").read_text()
    assert f"pip install 'qumulus[{extra}]'" in docs
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", WORKER_IMPORTS], capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout
    )
    owners = metadata.packages_distributions()
    needed = {
        _canonical(dist)
        for module in loaded
        if module in owners and module not in sys.stdlib_module_names
        for dist in owners[module]
        if _canonical(dist) != "qumulus"
    }
    assert "psycopg" in needed  # the test sees the driver it is about
    provided = _closure(_extra_requirements(extra))
    missing = sorted(needed - provided)
    assert not missing, f"qumulus[{extra}] does not install {missing}, which `qumulus worker` imports"
