"""Accounts: saved profiles (mode 0600, keys masked), several servers, env override, session-only."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from qumulus import Qumulus
from qumulus.client import AccountError
from qumulus.client.accounts import credentials_path
from tests.conftest import LiveServer


def test_saved_account_file_is_private_and_never_shows_the_key(
    sdk_server: LiveServer, sdk_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Qumulus.save_account(sdk_server.key, url=sdk_server.url, name="lab")
    path = credentials_path()
    assert path.parent == sdk_home
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    provider = Qumulus.load_account()  # the only (so default) profile
    assert provider.get_backend("simulator").num_qubits == 29
    shown = [
        repr(provider.account),
        str(Qumulus.active_account()),
        str(Qumulus.stored_account("lab")),
        str(Qumulus.saved_accounts()),
        repr(provider),
    ]
    print(*shown)
    out = capsys.readouterr().out
    assert sdk_server.key not in out
    assert sdk_server.key[-10:] not in out
    assert Qumulus.active_account()["url"] == sdk_server.url
    assert json.loads(path.read_text())["accounts"]["lab"]["token"] == sdk_server.key  # usable later


def test_profiles_each_with_their_own_server(
    sdk_server: LiveServer, failing_server: LiveServer, sdk_home: Path
) -> None:
    Qumulus.save_account(sdk_server.key, url=sdk_server.url, name="main")
    Qumulus.save_account(failing_server.key, url=failing_server.url + "/v0.4", name="other")
    main = Qumulus.load_account("main")
    main_project = main.project
    other = Qumulus.load_account("other")
    assert other.transport.base == failing_server.url + "/v0.4"
    assert other.project != main_project  # two servers, two bootstrap projects
    assert Qumulus.active_account()["name"] == "other"
    assert Qumulus.stored_account()["name"] == "main"  # the first saved stays the default
    with pytest.raises(AccountError, match="already saved"):
        Qumulus.save_account("x" * 30, url=sdk_server.url, name="main")
    assert Qumulus.delete_account("other") is True
    assert Qumulus.delete_account("other") is False
    with pytest.raises(AccountError, match="no saved account named 'other'"):
        Qumulus.load_account("other")


def test_environment_overrides_the_saved_default(
    sdk_server: LiveServer, failing_server: LiveServer, sdk_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Qumulus.save_account(failing_server.key, url=failing_server.url, name="saved")
    monkeypatch.setenv("QUMULUS_API_KEY", sdk_server.key)
    monkeypatch.setenv("QUMULUS_URL", sdk_server.url)
    assert Qumulus.load_account().transport.server == sdk_server.url
    assert Qumulus.load_account("saved").transport.server == failing_server.url  # a name still wins
    monkeypatch.delenv("QUMULUS_API_KEY")
    monkeypatch.delenv("QUMULUS_URL")
    monkeypatch.setenv("IONQ_API_KEY", sdk_server.key)  # the IonQ clients' variables work too
    monkeypatch.setenv("IONQ_API_URL", sdk_server.url + "/v0.4")
    assert Qumulus.load_account().transport.server == sdk_server.url


def test_session_only_account_writes_nothing_and_bad_keys_fail_at_once(
    sdk_server: LiveServer, sdk_home: Path
) -> None:
    provider = Qumulus.enable_account(sdk_server.key, url=sdk_server.url)
    assert not credentials_path().exists()
    assert Qumulus.providers() == [provider]
    assert Qumulus.get_provider(project=provider.project) is provider
    with pytest.raises(AccountError, match="no provider"):
        Qumulus.get_provider(project="another-project")
    Qumulus.disable_account()
    assert Qumulus.active_account() is None
    with pytest.raises(AccountError, match="no active account"):
        Qumulus.providers()
    from qumulus.client import ApiError

    with pytest.raises(ApiError) as caught:
        Qumulus.enable_account("qmk_wrong_key_000000000000", url=sdk_server.url)
    assert caught.value.status_code == 401


def test_no_account_anywhere_says_what_to_do(sdk_home: Path) -> None:
    with pytest.raises(AccountError, match="save_account"):
        Qumulus.load_account()
