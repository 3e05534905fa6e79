"""Import an AI-Trader checkout into the store: prices, positions, logs, issues, models.

Per model, the import is all or nothing: a position or log file the reader rejects
records the rejection (file:line) in legacy_issues and leaves that model's earlier
import untouched (its positions and every log row), so nothing already imported is lost,
the model is not (re)registered nor replayed, and the summary says REJECTED.
An accepted model's rows are replaced in one transaction. Re-importing the same files
leaves every table identical: rows whose content did not change are not rewritten, so
`imported_at` says when that content first arrived.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trading_assets.config import FeesConfig, MarketDataConfig, ModelSpec, source_id
from trading_assets.errors import LegacyFormatError
from trading_assets.legacy.config import LegacyAgentConfig, load_config
from trading_assets.legacy.layout import LegacyIssue, LegacyLayout, resolve_root
from trading_assets.legacy.logs import LogRecord, read_log
from trading_assets.legacy.positions import PositionLine, read_positions
from trading_assets.legacy.prices import LegacyPriceSource
from trading_assets.llm.scrub import environment_secrets
from trading_assets.store.legacy_import import ModelRows, write_import
from trading_assets.store.results import ResultStore
from trading_assets.vocab import SYSTEM_CLOCK, Clock


@dataclass(frozen=True)
class SignatureImport:
    signature: str
    accepted: bool
    n_lines: int  # lines read (0 when rejected)
    first_date: dt.date | None  # first and last date with an action (registration excluded)
    last_date: dt.date | None
    issues: tuple[LegacyIssue, ...]  # flags, or the one rejection


@dataclass(frozen=True)
class ImportReport:
    root: Path
    price_source: str  # the `prices.source` key the bars were stored under
    symbols: tuple[str, ...]
    first_price_date: dt.date
    last_price_date: dt.date
    price_issues: tuple[LegacyIssue, ...]
    signatures: tuple[SignatureImport, ...]
    issues: tuple[LegacyIssue, ...] = ()  # unsafe folders, an unreadable config

    @property
    def accepted(self) -> list[str]:
        return [s.signature for s in self.signatures if s.accepted]

    @property
    def rejected(self) -> list[str]:
        return [s.signature for s in self.signatures if not s.accepted]


@dataclass
class _Model:
    signature: str
    path: str = ""
    lines: list[PositionLine] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)
    issues: list[LegacyIssue] = field(default_factory=list)
    rejection: LegacyIssue | None = None


def import_legacy(
    store: ResultStore, root: str | Path, clock: Clock = SYSTEM_CLOCK
) -> ImportReport:
    """Import the checkout (or data/ folder) at `root`; see the module docstring."""
    layout = resolve_root(root)
    prices = LegacyPriceSource(layout)
    history = prices.load()
    market = MarketDataConfig(source="legacy", path=str(layout.data_dir))
    price_id = source_id(market)
    store.write_prices(price_id, history)
    known = frozenset(history.symbols)
    initial_cash, global_issues = _initial_cash(layout)
    signatures, unsafe = layout.scan_signatures()
    global_issues += unsafe
    models = [_read_model(layout, sig, known) for sig in signatures]
    specs = [_spec(layout, m, known, initial_cash, market) for m in models if not m.rejection]
    registered = write_import(
        store,
        str(layout.root) + os.sep,
        _issue_rows(None, [*prices.issues, *global_issues], False),
        [_model_rows(m) for m in models],
        clock.now(),
        secrets=_known_secrets(layout),
    )
    store.register_models(s for s in specs if registered.get(s.signature) != s.config_hash)
    return ImportReport(
        root=layout.root,
        price_source=price_id,
        symbols=history.symbols,
        first_price_date=history.dates[0],
        last_price_date=history.dates[-1],
        price_issues=tuple(prices.issues),
        signatures=tuple(_summary(m) for m in models),
        issues=tuple(global_issues),
    )


def _initial_cash(layout: LegacyLayout) -> tuple[float | None, list[LegacyIssue]]:
    if layout.config_path is None:
        return None, []
    try:
        return load_config(layout.config_path).agent_config.initial_cash, []
    except LegacyFormatError as exc:  # the registration lines still say the cash
        return None, [_issue_from(exc, str(layout.config_path), "config_rejected")]


def _known_secrets(layout: LegacyLayout) -> list[str]:
    """The keys the checkout's text may hold, to scrub it of: each model's
    `openai_api_key` in the legacy config, the secret-looking variables of the checkout's
    `.env` (OPENAI_API_KEY, ...; AI-Trader reads its keys from there) and of our own
    environment (often the same key). A key known nowhere here cannot be found."""
    keys: list[str] = []
    if layout.config_path is not None:
        try:
            models = load_config(layout.config_path).models
        except LegacyFormatError:  # reported by _initial_cash
            models = []
        keys += [m.openai_api_key.get_secret_value() for m in models if m.openai_api_key]
    dotenv = layout.root / ".env"
    if dotenv.is_file():
        lines = dotenv.read_text(encoding="utf-8", errors="replace").splitlines()
        pairs = (line.removeprefix("export ").partition("=") for line in lines)
        values = {k.strip(): v.strip().strip("'\"") for k, eq, v in pairs if eq}
        keys += environment_secrets(values)
    return sorted({*keys, *environment_secrets(os.environ)})


def _read_model(layout: LegacyLayout, signature: str, known: frozenset[str]) -> _Model:
    model = _Model(signature)
    try:
        path = layout.position_file(signature)
        model.path = str(path)
        model.lines, model.issues = read_positions(path, known)
    except LegacyFormatError as exc:
        model.rejection = _issue_from(exc, str(layout.signature_dir(signature)), "rejected")
        return model
    for day in layout.log_dates(signature):
        try:
            model.logs += read_log(layout.log_file(signature, day), day)
        except LegacyFormatError as exc:  # all or nothing: the model's earlier import stays
            model.rejection = _issue_from(exc, str(day), "log_rejected")
            return model
    return model


def _issue_from(exc: LegacyFormatError, default_file: str, code: str) -> LegacyIssue:
    """Split the error's `where` ("file:line" or "file") into the issue's file and line."""
    where = exc.where or default_file
    file, _, line = where.rpartition(":")
    message = f"{exc.message} (fix: {exc.fix})" if exc.fix else exc.message
    if file and line.isdigit():
        return LegacyIssue(file, int(line), code, message)
    return LegacyIssue(where, None, code, message)


def _spec(
    layout: LegacyLayout,
    model: _Model,
    known: frozenset[str],
    initial_cash: float | None,
    market: MarketDataConfig,
) -> ModelSpec:
    universe = dict.fromkeys(s for line in model.lines for s in line.positions if s in known)
    if initial_cash is None:  # no config: the registration line's CASH
        first = model.lines[0] if model.lines else None
        registered = first is not None and first.action is None
        initial_cash = first.cash if registered else LegacyAgentConfig().initial_cash
    return ModelSpec(
        signature=model.signature,
        agent="replay",
        params={"root": str(layout.root), "signature": model.signature},
        universe=tuple(universe),
        initial_cash=initial_cash,
        market_data=market,
        fees=FeesConfig(),
        corporate_actions="ignore",  # AI-Trader applied none: the replay must not either
    )


def _summary(model: _Model) -> SignatureImport:
    dates = [line.date for line in model.lines if line.action is not None]
    return SignatureImport(
        signature=model.signature,
        accepted=model.rejection is None,
        n_lines=len(model.lines),
        first_date=min(dates, default=None),
        last_date=max(dates, default=None),
        issues=(model.rejection,) if model.rejection else tuple(model.issues),
    )


def _model_rows(model: _Model) -> ModelRows:
    sig = model.signature
    if model.rejection is not None:
        return ModelRows(sig, _issue_rows(sig, [model.rejection], True), [], [], [])
    positions = [
        (sig, x.date, x.id, x.action, x.symbol, x.amount, x.cash, json.dumps(x.positions), *where)
        for x in model.lines
        for where in [(model.path, x.line_no)]
    ]
    logs = [(sig, r.date, r.line_no, seq, r.role, r.content) for seq, r in _sequenced(model.logs)]
    return ModelRows(sig, None, positions, logs, _issue_rows(sig, model.issues, False))


def _sequenced(records: Sequence[LogRecord]) -> list[tuple[int, LogRecord]]:
    """Number the messages of each log line 0, 1, ... (a line may hold several)."""
    out, last, seq = [], None, 0
    for record in records:
        key = (record.date, record.line_no)
        seq = seq + 1 if key == last else 0
        last = key
        out.append((seq, record))
    return out


def _issue_rows(model: str | None, issues: Sequence[LegacyIssue], rejected: bool) -> list[tuple]:
    return [(model, i.file, i.line, i.code, i.message, rejected) for i in issues]
