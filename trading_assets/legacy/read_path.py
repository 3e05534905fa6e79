"""Dual read of one model-day: the new store first, the legacy layout as fallback.

The order flips to legacy-first when TA_READ_PREFERENCE=legacy or when the model is
outside the rollout (the rollout is where the new path is trusted). With
TA_READ_FALLBACK=off only the first source is asked. Both sides answer with the same
dict: model, date, status, cash, portfolio_value, positions (non-zero shares), error.

On the legacy side a status file (written by dual write) gives status, cash and
value; positions come from the date's final position line. Without a status file a
date with action lines counts as completed (the legacy engine wrote lines only for
days it finished), valued by the legacy rule from the checkout's daily price files.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Literal

from trading_assets.errors import LegacyFormatError, StoreError
from trading_assets.legacy.flags import READ_FALLBACK, MigrationFlags
from trading_assets.legacy.layout import LegacyLayout
from trading_assets.legacy.positions import final_state_by_date, read_positions
from trading_assets.legacy.prices import close_on
from trading_assets.store.results import ResultStore, stored_day

Source = Literal["new", "legacy"]


@dataclass(frozen=True)
class ReadResult:
    source: Source
    status: dict[str, Any]


def read_model_day(
    store: ResultStore,
    layout: LegacyLayout | None,
    flags: MigrationFlags,
    model: str,
    date: dt.date,
) -> ReadResult:
    """The model-day from the preferred source, or the other one when allowed."""
    legacy_first = flags.read_preference == "legacy" or not flags.in_rollout(model)
    order: list[Source] = ["legacy", "new"] if legacy_first else ["new", "legacy"]
    if not flags.read_fallback:
        order = order[:1]
    for source in order:
        found = (
            _read_new(store, model, date) if source == "new" else _read_legacy(layout, model, date)
        )
        if found is not None:
            return ReadResult(source, found)
    tried = " or ".join(
        "the legacy layout" + ("" if layout else " (none configured)")
        if s == "legacy"
        else "the new store"
        for s in order
    )
    fallback = "" if flags.read_fallback else f"; fallback is off ({READ_FALLBACK}=off)"
    raise StoreError(
        f"no result for {model} on {date} in {tried}{fallback}",
        where=f"{date.isoformat()}|{model}",
        fix=f"materialize {date.isoformat()}|{model}, or set {READ_FALLBACK}=on "
        "to read the other source",
    )


def _read_new(store: ResultStore, model: str, date: dt.date) -> dict[str, Any] | None:
    found = stored_day(store, model, date)
    if found is None:
        return None
    status, cash, value, error, held = found
    return _payload(model, date, status, cash, value, held, error)


def _read_legacy(layout: LegacyLayout | None, model: str, date: dt.date) -> dict[str, Any] | None:
    if layout is None:
        return None
    status_path = layout.status_file(model, date)
    position_path = layout.position_file(model)
    final = None
    if position_path.is_file():
        lines = read_positions(position_path).lines
        final = final_state_by_date(lines, acted_only=True).get(date)
    held = final.held if final else {}
    if status_path.is_file():
        try:
            payload = json.loads(status_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise LegacyFormatError(
                f"unreadable status file: {exc}",
                where=str(status_path),
                fix="delete it and re-run the model-day with dual write on",
            ) from None
        result = payload.get("result") or {}
        error = (payload.get("error") or {}).get("message")
        cash = result.get("cash", final.cash if final else None)
        value = result.get("portfolio_value")
        return _payload(model, date, payload["status"], cash, value, held, error)
    if final is None:
        return None
    value, _ = final.value({s: close_on(layout.data_dir, s, date) for s in held})
    return _payload(model, date, "completed", final.cash, value, held, None)


def _payload(
    model: str,
    date: dt.date,
    status: str,
    cash: float | None,
    value: float | None,
    positions: dict[str, int],
    error: str | None,
) -> dict[str, Any]:
    return {
        "model": model,
        "date": date,
        "status": status,
        "cash": cash,
        "portfolio_value": value,
        "positions": positions,
        "error": error,
    }
