"""Where credentials come from: stack config, then environment, then defaults."""

from __future__ import annotations

import ast
import copy
import pickle
from pathlib import Path

import pulumi
import pulumi.dynamic
import pytest

from pulumi_enkrypt import settings as settings_module
from pulumi_enkrypt.client import EnkryptClient
from pulumi_enkrypt.settings import (
    DEFAULT_BASE_URL,
    MissingCredentialsError,
    Settings,
    SettingsError,
    read_settings,
)

KEY = "ek-config-key-123456"
ENV_KEY = "ek-env-key-abcdef"


def test_config_wins_over_environment() -> None:
    env = {"ENKRYPTAI_API_KEY": ENV_KEY, "ENKRYPTAI_BASE_URL": "https://env.example.com"}
    s = read_settings({"enkrypt:apiKey": KEY, "enkrypt:baseUrl": "https://cfg.example.com/"}, env)
    assert (s.api_key, s.base_url) == (KEY, "https://cfg.example.com")


def test_bare_config_keys_are_accepted() -> None:
    s = read_settings({"apiKey": KEY, "baseUrl": "http://127.0.0.1:8765//"}, {})
    assert (s.api_key, s.base_url) == (KEY, "http://127.0.0.1:8765")


def test_environment_fallbacks_and_defaults() -> None:
    s = read_settings(None, {"ENKRYPTAI_API_KEY": ENV_KEY, "ENKRYPT_API_KEY": "other"})
    assert (s.api_key, s.base_url, s.timeout, s.max_attempts) == (ENV_KEY, DEFAULT_BASE_URL, 30.0, 6)
    assert read_settings({}, {"ENKRYPT_API_KEY": "legacy-key"}).api_key == "legacy-key"
    # empty or blank values count as unset
    s = read_settings({"enkrypt:apiKey": "", "enkrypt:baseUrl": None}, {"ENKRYPTAI_API_KEY": f" {ENV_KEY}\n"})
    assert (s.api_key, s.base_url) == (ENV_KEY, DEFAULT_BASE_URL)
    assert read_settings(None, {"ENKRYPTAI_API_KEY": " ", "ENKRYPT_API_KEY": "second"}).api_key == "second"


def test_missing_key_says_how_to_set_it() -> None:
    with pytest.raises(MissingCredentialsError) as info:
        read_settings({"enkrypt:baseUrl": "https://x.example.com"}, {})
    message = str(info.value)
    assert "pulumi config set --secret enkrypt:apiKey <key>" in message
    assert "export ENKRYPTAI_API_KEY=..." in message
    assert isinstance(info.value, SettingsError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "url", ["ftp://example.com", "api.enkryptai.com", "file:///etc/passwd", "https://", "https://u:p@x.com"]
)
def test_bad_base_url_names_the_config_key(url: str) -> None:
    with pytest.raises(SettingsError, match="enkrypt:baseUrl"):
        read_settings({"enkrypt:apiKey": KEY, "enkrypt:baseUrl": url}, {})


def test_bad_base_url_from_the_environment_names_both() -> None:
    with pytest.raises(SettingsError) as info:
        read_settings({"enkrypt:apiKey": KEY}, {"ENKRYPTAI_BASE_URL": "localhost:8765"})
    assert "ENKRYPTAI_BASE_URL" in str(info.value) and "enkrypt:baseUrl" in str(info.value)


def test_knobs() -> None:
    s = read_settings({"apiKey": KEY, "enkrypt:maxAttempts": "3", "timeoutSeconds": "2.5"}, {})
    assert (s.max_attempts, s.timeout) == (3, 2.5)
    env = {"ENKRYPTAI_MAX_ATTEMPTS": "9", "ENKRYPTAI_TIMEOUT_SECONDS": "60"}
    s = read_settings({"apiKey": KEY}, env)
    assert (s.max_attempts, s.timeout) == (9, 60.0)
    for bad in ("0", "x", "1.5", "100"):
        with pytest.raises(SettingsError, match="enkrypt:maxAttempts"):
            read_settings({"apiKey": KEY, "maxAttempts": bad}, {})
    for bad in ("0", "-1", "nan", "inf", "soon"):
        with pytest.raises(SettingsError, match="ENKRYPTAI_TIMEOUT_SECONDS"):
            read_settings({"apiKey": KEY}, {"ENKRYPTAI_TIMEOUT_SECONDS": bad})


def test_settings_hide_the_key_and_refuse_pickling() -> None:
    s = Settings(base_url=DEFAULT_BASE_URL, api_key=KEY)
    for text in (repr(s), str(s), f"{s}", f"{s!r}"):
        assert KEY not in text and "api_key=***" in text
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(s)
    assert copy.deepcopy(s) is s and copy.copy(s) is s
    with pytest.raises(AttributeError):
        s.api_key = "x"  # type: ignore[misc]


def test_a_client_from_settings_applies_the_knobs() -> None:
    s = Settings(base_url="http://127.0.0.1:1", api_key=KEY, timeout=2.0, max_attempts=2)
    with EnkryptClient.from_settings(s) as client:
        assert isinstance(client, EnkryptClient)
        assert client.base_url == "http://127.0.0.1:1" and client.max_attempts == 2
        assert (client.timeout.connect, client.timeout.read) == (2.0, 2.0)
        assert KEY not in repr(client)


def test_from_the_dynamic_provider_config() -> None:
    """``req.config`` in configure() is a pulumi.dynamic.Config whose bare keys mean the *project* namespace."""
    raw = {
        "enkrypt:apiKey": KEY,
        "enkrypt:baseUrl": "https://cfg.example.com/",
        "enkrypt:maxAttempts": "4",
        "myproject:apiKey": "not-this-one",
    }
    config = pulumi.dynamic.Config(raw_config=raw, project_name="myproject")
    s = read_settings(config, env={"ENKRYPTAI_API_KEY": ENV_KEY})
    assert (s.api_key, s.base_url, s.max_attempts) == (KEY, "https://cfg.example.com", 4)

    empty = pulumi.dynamic.Config(raw_config={}, project_name="myproject")
    assert read_settings(empty, env={"ENKRYPTAI_API_KEY": ENV_KEY}).api_key == ENV_KEY
    with pytest.raises(MissingCredentialsError):
        read_settings(empty, env={})


def test_from_a_program_side_pulumi_config(monkeypatch: pytest.MonkeyPatch) -> None:
    # pulumi.Config reads PULUMI_CONFIG when no engine set the config; its get() prefixes its own name
    monkeypatch.setenv("PULUMI_CONFIG", f'{{"enkrypt:apiKey": "{KEY}", "enkrypt:timeoutSeconds": "7"}}')
    s = read_settings(pulumi.Config("enkrypt"), env={})
    assert (s.api_key, s.timeout) == (KEY, 7.0)
    with pytest.raises(SettingsError, match="enkrypt"):
        read_settings(pulumi.Config("other"), env={})


def test_a_stack_config_as_pulumi_config_json_prints_it() -> None:
    """The export command's form: ``pulumi config --json`` values by full key; unset keys fall to the env."""
    stack = {"enkrypt:apiKey": KEY, "enkrypt:strictProviders": "true", "other:apiKey": "not-this-one"}
    s = read_settings(stack, env={"ENKRYPTAI_API_KEY": ENV_KEY, "ENKRYPTAI_BASE_URL": "https://env.example.com"})
    assert (s.api_key, s.base_url, s.strict_providers) == (KEY, "https://env.example.com", True)


def test_settings_does_not_import_the_client() -> None:
    """The client imports settings; settings imports no client module, not even lazily or for typing."""
    tree = ast.parse(Path(settings_module.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {m for m in imported if m.rsplit(".", 1)[-1] in ("client", "_client")}, imported
