"""The legacy AI-Trader folder layout, with every derived path checked for safety.

Signatures and dates come from configs, folder names and callers, so each one is
validated (a safe-name pattern, never "." or "..") and each derived path must still
resolve under its parent folder: `../x`, absolute paths and symlinks that escape
raise LegacyFormatError instead of reading or writing elsewhere.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from trading_assets.errors import LegacyFormatError
from trading_assets.vocab import SIGNATURE_RE

_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CONFIG_RELPATH = Path("configs") / "default_config.json"


@dataclass(frozen=True, slots=True)
class LegacyIssue:
    """A problem worth recording that does not stop an import (see positions.py)."""

    file: str
    line: int | None
    code: str
    message: str


def check_signature(signature: str) -> str:
    """Return `signature` if it is a safe folder name, else raise LegacyFormatError."""
    if (
        not isinstance(signature, str)
        or signature in (".", "..")
        or not SIGNATURE_RE.fullmatch(signature)
    ):
        raise LegacyFormatError(
            f"unsafe or invalid model signature {signature!r}",
            fix="use 1-128 characters from A-Z a-z 0-9 . _ - starting with a letter or digit",
        )
    return signature


def check_date(date: dt.date | str) -> str:
    """Return the ISO form of `date` (a date or a YYYY-MM-DD string), else raise."""
    if isinstance(date, dt.datetime):
        date = date.date()
    if isinstance(date, dt.date):
        return date.isoformat()
    if isinstance(date, str) and _DATE_PATTERN.fullmatch(date):
        try:
            return dt.date.fromisoformat(date).isoformat()
        except ValueError:
            pass
    raise LegacyFormatError(f"invalid date {date!r}", fix="pass a real date as YYYY-MM-DD")


def _inside(path: Path, base: Path) -> Path:
    """`path` if it resolves under `base` (symlinks followed), else raise."""
    resolved = path.resolve()
    if not resolved.is_relative_to(base.resolve()):
        raise LegacyFormatError(
            f"path escapes the legacy folder (resolves to {resolved})",
            where=str(path),
            fix=f"remove the symlink or rename the folder; legacy paths must stay under {base}",
        )
    return path


@dataclass(frozen=True)
class LegacyLayout:
    """Paths of one AI-Trader checkout: `root/data/...` and `root/configs/...`."""

    root: Path
    data_dir: Path

    @property
    def agent_data_dir(self) -> Path:
        return self.data_dir / "agent_data"

    @property
    def config_path(self) -> Path | None:
        path = self.root / CONFIG_RELPATH
        return path if path.is_file() else None

    def signature_dir(self, signature: str) -> Path:
        check_signature(signature)
        return _inside(self.agent_data_dir / signature, self.agent_data_dir)

    def position_file(self, signature: str) -> Path:
        base = self.signature_dir(signature)
        return _inside(base / "position" / "position.jsonl", base)

    def log_file(self, signature: str, date: dt.date | str) -> Path:
        base = self.signature_dir(signature)
        return _inside(base / "log" / check_date(date) / "log.jsonl", base)

    def log_dates(self, signature: str) -> list[dt.date]:
        """Dates that have a log folder (folders not named like a date are skipped)."""
        folder = self.signature_dir(signature) / "log"
        if not folder.is_dir():
            return []
        names = (p.name for p in folder.iterdir() if p.is_dir())
        return sorted(dt.date.fromisoformat(n) for n in names if _is_iso_date(n))

    def status_file(self, signature: str, date: dt.date | str) -> Path:
        base = self.signature_dir(signature)
        return _inside(base / "status" / f"{check_date(date)}.json", base)

    def scan_signatures(self) -> tuple[list[str], list[LegacyIssue]]:
        """Safe model folders (sorted), and an issue for each unsafe one (never followed)."""
        if not self.agent_data_dir.is_dir():
            return [], []
        names: list[str] = []
        issues: list[LegacyIssue] = []
        for entry in sorted(self.agent_data_dir.iterdir()):
            if not entry.is_dir():
                continue  # stray files (.DS_Store, notes) are not models
            try:
                self.signature_dir(entry.name)
            except LegacyFormatError as exc:
                issues.append(LegacyIssue(str(entry), None, "unsafe_signature", str(exc)))
                continue
            names.append(entry.name)
        return names, issues

    def list_signatures(self) -> list[str]:
        return self.scan_signatures()[0]


def _is_iso_date(name: str) -> bool:
    try:
        check_date(name)
    except LegacyFormatError:
        return False
    return True


def resolve_root(path: str | Path, *, create: bool = False) -> LegacyLayout:
    """The layout of an AI-Trader checkout, given the checkout or its `data/` folder.

    With `create=True` a missing or empty folder becomes a new checkout root
    (`data/agent_data` is created): the target of a dual write.
    """
    path = Path(path).expanduser().absolute()
    if (path / "data").is_dir():
        return LegacyLayout(root=path, data_dir=path / "data")
    if path.is_dir() and _looks_like_data_dir(path):
        return LegacyLayout(root=path.parent, data_dir=path)
    if create and (not path.exists() or (path.is_dir() and not any(path.iterdir()))):
        (path / "data" / "agent_data").mkdir(parents=True, exist_ok=True)
        return LegacyLayout(root=path, data_dir=path / "data")
    raise LegacyFormatError(
        "not an AI-Trader checkout or data folder",
        where=str(path),
        fix="point at the folder that holds data/ (and configs/), or at data/ itself "
        "(it holds agent_data/, daily_prices_*.json or merged.jsonl)",
    )


def _looks_like_data_dir(path: Path) -> bool:
    return (
        (path / "agent_data").is_dir()
        or (path / "merged.jsonl").is_file()
        or any(path.glob("daily_prices_*.json"))
    )


def read_legacy_text(path: Path, what: str) -> str:
    """A legacy file's text, or a LegacyFormatError naming the file."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LegacyFormatError(
            f"cannot read {what}: {exc}",
            where=str(path),
            fix="check the path, permissions and UTF-8 encoding",
        ) from None
