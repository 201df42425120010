"""Backends declared in TOML: what parses, and what an operator is told when it does not."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from qumulus.drivers import ConfigError, DriverConfig
from qumulus.drivers.config import check_drivers, load_backends, parse_backend, parse_backends
from qumulus.drivers.credentials import CredentialRef
from qumulus.drivers.ionq import IonQDriver
from qumulus.drivers.registry import build, installed

EXAMPLE = """
[[backend]]
name = "upstream.aria-1"
driver = "ionq"
qubits = 25
max_outstanding = 2

[backend.credential]
env = "UPSTREAM_KEY"

[backend.options]
url = "http://127.0.0.1:9/"
target = "qpu.aria-1"

[backend.contract]
rate_per_second = "0.25"
allocation_seconds = 600

[[backend]]
name = "lab.toy"
driver = "toy"
qubits = 8
billing = "contract"
"""


def test_a_declaration_parses_with_its_defaults() -> None:
    first, second = parse_backends(EXAMPLE)
    assert first.name == "upstream.aria-1" and first.driver == "ionq" and first.qubits == 25
    assert first.max_outstanding == 2 and first.billing == "upstream" and first.kind == "qpu"
    assert first.credential is not None and first.credential.ref() == CredentialRef(env="UPSTREAM_KEY")
    assert first.options == {"url": "http://127.0.0.1:9/", "target": "qpu.aria-1"}
    assert first.contract.rate_per_second == Decimal("0.25") and first.contract.period == "month"
    assert first.timing.poll_cap == 10.0
    assert second.credential is None and second.billing == "contract" and second.max_outstanding == 4


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("max_outstandng = 3", "backend[0] (b.one).max_outstandng: unknown key (check its spelling)"),
        (
            "max_outstanding = 0",
            "backend[0] (b.one).max_outstanding: Input should be greater than or equal to 1",
        ),
        ('billing = "free"', "backend[0] (b.one).billing: Input should be 'upstream' or 'contract'"),
        ('[backend.credential]\nkey = "sk-123"', "a key may not be written in the configuration"),
        ('[backend.credential]\nenv = "A"\nfile = "/b"', "give exactly one of env"),
        ('[backend.contract]\nrate_per_second = "-1"', "contract.rate_per_second: Input should be greater"),
        ("[backend.timing]\npoll_first = 5\npoll_cap = 1", "poll_cap must be at least poll_first"),
    ],
)
def test_a_bad_declaration_is_refused_naming_the_backend_and_field(snippet: str, expected: str) -> None:
    text = f'[[backend]]\nname = "b.one"\ndriver = "ionq"\nqubits = 4\n{snippet}\n'
    with pytest.raises(ConfigError) as err:
        parse_backends(text, source="site.toml")
    assert str(err.value).startswith("site.toml: ")
    assert expected in str(err.value)
    assert "sk-123" not in str(err.value)  # a key written by mistake is not echoed into logs


@pytest.mark.parametrize("name", ["simulator", "qpu.aria-1", "qpu", "Upper.Case", "-dash", "a b"])
def test_names_of_the_built_in_catalog_and_malformed_names_are_refused(name: str) -> None:
    with pytest.raises(ConfigError, match=r"name: "):
        parse_backend({"name": name, "driver": "ionq", "qubits": 2})


def test_a_name_declared_twice_and_bad_toml_are_refused() -> None:
    twice = '[[backend]]\nname = "a.b"\ndriver = "x"\nqubits = 1\n' * 2
    with pytest.raises(ConfigError, match=r"'a\.b' is declared twice"):
        parse_backends(twice)
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_backends("[[backend]\nname=")


def test_load_backends_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the backends file"):
        load_backends(tmp_path / "nope.toml")
    path = tmp_path / "b.toml"
    path.write_text(EXAMPLE)
    assert [d.name for d in load_backends(path)] == ["upstream.aria-1", "lab.toy"]


def test_an_unknown_driver_is_refused_listing_the_installed_ones() -> None:
    decls = parse_backends(EXAMPLE)
    with pytest.raises(
        ConfigError, match=r"'lab.toy': driver: no driver named 'toy' is installed \(installed: ionq"
    ):
        check_drivers(decls, installed())
    with pytest.raises(ConfigError, match="no driver named 'nope'"):
        build("nope", DriverConfig(backend="x", options={}))


def test_credentials_come_from_the_environment_or_a_file_and_never_show(tmp_path: Path) -> None:
    assert CredentialRef(env="K").resolve({"K": " secret \n"}) == "secret"
    with pytest.raises(ConfigError, match="environment variable K is not set"):
        CredentialRef(env="K").resolve({})
    path = tmp_path / "key"
    path.write_text("file-secret\n")
    assert CredentialRef(file=str(path)).resolve() == "file-secret"
    path.write_text("  ")
    with pytest.raises(ConfigError, match="is empty"):
        CredentialRef(file=str(path)).resolve()
    with pytest.raises(ConfigError, match="cannot read"):
        CredentialRef(file=str(tmp_path / "missing")).resolve()
    assert CredentialRef(env="K").describe() == "env:K"
    config = DriverConfig(backend="b", options={}, credential="hidden")
    assert "hidden" not in repr(config)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"target": "qpu.aria-1"}, "options.url: Field required"),
        ({"url": "ftp://x", "target": "t"}, "options.url: Value error, must be an http:// or https:// URL"),
        ({"url": "http://h", "target": "t", "pushh": "sse"}, "options.pushh: unknown option"),
        ({"url": "http://h", "target": "t", "timeout": 0}, "options.timeout: Input should be greater than 0"),
    ],
)
def test_the_ionq_driver_checks_its_options(options: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        IonQDriver(DriverConfig(backend="up.one", options=options, credential="k"))
    assert "backend 'up.one'" in str(err.value) and expected in str(err.value)


def test_the_ionq_driver_needs_a_credential_and_normalises_its_url() -> None:
    with pytest.raises(ConfigError, match="needs a credential"):
        IonQDriver(DriverConfig(backend="b", options={"url": "http://h:1", "target": "t"}))
    driver = IonQDriver(
        DriverConfig(backend="b", options={"url": "http://h:1/", "target": "t"}, credential="k")
    )
    assert driver.options.url == "http://h:1/v0.4" and driver.idempotent_submit and driver.pushes
    driver.close()
