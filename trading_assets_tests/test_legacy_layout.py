"""Legacy layout (root resolution, path safety) and the legacy default_config.json model.

Every path built from a signature or a date must stay under its folder: traversal,
absolute paths and escaping symlinks raise; unsafe folder names are reported, not
followed. Config secrets never appear in dumps or reprs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trading_assets.errors import LegacyFormatError
from trading_assets.legacy.config import load_config, parse_config
from trading_assets.legacy.layout import resolve_root

try:
    from trading_assets_tests.legacy_fixture import FIXTURE_ROOT, SIGNATURES
except ImportError:  # pytest's default "prepend" import of this folder
    from legacy_fixture import FIXTURE_ROOT, SIGNATURES


def test_resolve_root_with_checkout_or_data_folder_gives_the_same_layout() -> None:
    for path in (FIXTURE_ROOT, FIXTURE_ROOT / "data"):
        layout = resolve_root(path)
        assert layout.data_dir == FIXTURE_ROOT / "data"
        assert layout.agent_data_dir == FIXTURE_ROOT / "data" / "agent_data"
        assert layout.config_path == FIXTURE_ROOT / "configs" / "default_config.json"
        assert layout.list_signatures() == list(SIGNATURES)
    layout = resolve_root(FIXTURE_ROOT)
    assert layout.position_file("gpt-5").is_file()
    assert layout.log_file("gpt-5", "2025-10-02").is_file()
    assert layout.status_file("gpt-5", "2025-10-02").name == "2025-10-02.json"


def test_resolve_root_with_unrelated_or_empty_folder_raises_unless_created(
    tmp_path: Path,
) -> None:
    with pytest.raises(LegacyFormatError, match="not an AI-Trader checkout") as caught:
        resolve_root(tmp_path)
    assert caught.value.where == str(tmp_path) and caught.value.fix
    layout = resolve_root(tmp_path / "new", create=True)
    assert layout.agent_data_dir.is_dir() and layout.config_path is None
    assert layout.list_signatures() == []
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("not legacy")
    with pytest.raises(LegacyFormatError):
        resolve_root(tmp_path / "busy", create=True)  # never adopt a non-empty folder


@pytest.mark.parametrize(
    "signature", ["../x", "..", ".", "/etc", "a/b", "", ".hidden", "x" * 129, "gpt 5", "a\\b"]
)
def test_layout_paths_with_unsafe_signature_raise(signature: str) -> None:
    layout = resolve_root(FIXTURE_ROOT)
    for build in (layout.signature_dir, layout.position_file):
        with pytest.raises(LegacyFormatError, match="unsafe or invalid model signature"):
            build(signature)
    with pytest.raises(LegacyFormatError):
        layout.status_file(signature, "2025-10-02")


@pytest.mark.parametrize("date", ["../../x", "2025-10-32", "20251002", "2025-10-02/..", ""])
def test_layout_paths_with_invalid_date_raise(date: str) -> None:
    layout = resolve_root(FIXTURE_ROOT)
    with pytest.raises(LegacyFormatError, match="invalid date"):
        layout.log_file("gpt-5", date)
    with pytest.raises(LegacyFormatError, match="invalid date"):
        layout.status_file("gpt-5", date)


def test_layout_with_escaping_symlinks_raises_and_lists_only_safe_models(tmp_path: Path) -> None:
    layout = resolve_root(tmp_path / "root", create=True)
    outside = tmp_path / "outside"
    (outside / "position").mkdir(parents=True)
    (layout.agent_data_dir / "good" / "position").mkdir(parents=True)
    (layout.agent_data_dir / "escape").symlink_to(outside, target_is_directory=True)
    (layout.agent_data_dir / "bad name").mkdir()
    (layout.agent_data_dir / "notes.txt").write_text("a stray file")
    (layout.agent_data_dir / "good" / "status").symlink_to(outside, target_is_directory=True)
    with pytest.raises(LegacyFormatError, match="escapes the legacy folder"):
        layout.position_file("escape")
    with pytest.raises(LegacyFormatError, match="escapes the legacy folder"):
        layout.status_file("good", "2025-10-02")
    names, issues = layout.scan_signatures()
    assert names == ["good"]
    assert sorted(Path(i.file).name for i in issues) == ["bad name", "escape"]
    assert {i.code for i in issues} == {"unsafe_signature"}


def test_load_config_with_fixture_treats_placeholders_as_unset() -> None:
    config = load_config(resolve_root(FIXTURE_ROOT).config_path)
    assert [m.signature for m in config.enabled_models()] == ["gpt-5"]
    assert str(config.date_range.init_date) == "2025-10-01"
    assert config.agent_config.initial_cash == 10000.0
    claude = config.models[0]
    assert claude.openai_base_url is None and claude.openai_api_key is None


def test_parse_config_with_real_secret_keeps_it_out_of_dumps_and_reprs() -> None:
    data = json.loads((FIXTURE_ROOT / "configs" / "default_config.json").read_text())
    data["models"][0].update(openai_api_key="sk-live-123", openai_base_url="https://llm.test/v1")
    config = parse_config(data)
    model = config.models[0]
    assert model.openai_api_key.get_secret_value() == "sk-live-123"
    assert model.openai_base_url == "https://llm.test/v1"
    for text in (repr(config), str(config), config.model_dump_json(), str(config.model_dump())):
        assert "sk-live-123" not in text
    assert "openai_api_key" not in config.model_dump()["models"][0]


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda d: d["date_range"].update(end_date="2025-09-01"), "date_range"),
        (lambda d: d["models"][1].update(signature="../evil"), "models.1.signature"),
        (lambda d: d["models"].append(dict(d["models"][0])), "models"),
        (lambda d: d["agent_config"].update(initial_cash=-5), "agent_config.initial_cash"),
        (lambda d: d.pop("models"), "models"),
    ],
)
def test_parse_config_with_invalid_values_raises_naming_the_key(edit, where: str) -> None:
    data = json.loads((FIXTURE_ROOT / "configs" / "default_config.json").read_text())
    data["models"][0]["openai_api_key"] = "sk-live-123"
    edit(data)
    with pytest.raises(LegacyFormatError) as caught:
        parse_config(data, where="default_config.json")
    assert caught.value.message.startswith(f"{where}:")
    assert "sk-live-123" not in str(caught.value)


def test_load_config_with_broken_json_raises_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "default_config.json"
    path.write_text('{\n  "agent_type": "BaseAgent",\n  "models": [\n')
    with pytest.raises(LegacyFormatError, match="invalid JSON") as caught:
        load_config(path)
    assert caught.value.where == f"{path}:4"
