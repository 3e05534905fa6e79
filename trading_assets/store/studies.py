"""Studies in the store: one row per study, every trial's figures and daily returns, the
walk-forward folds; replaced whole per study in one transaction."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from trading_assets.config import MarketDataConfig, ModelSpec, StudySpec
from trading_assets.errors import StoreError
from trading_assets.store.results import ResultStore
from trading_assets.vocab import CONTRACT_VERSION

TABLES = ("study_returns", "study_folds", "study_trials", "studies")
TRIAL_COLUMNS = (
    "trial, params, config_hash, status, error, final_value, cumulative_return, "
    "annual_return, annual_volatility, sharpe, sortino, max_drawdown, calmar, win_rate, "
    "filled_orders"
)


@dataclass(frozen=True)
class StudyRows:
    summary: dict[str, Any]  # the `studies` row, without completed_at
    trials: pd.DataFrame  # study_trials' columns, without study
    # trial, date, daily_return, portfolio_value: one frame, one bulk insert (chunks of
    # trials cost more than the frame's memory: 3.27 million rows are about 100 MiB)
    returns: pd.DataFrame
    folds: pd.DataFrame  # study_folds' columns, without study (may be empty)


def write_study(store: ResultStore, rows: StudyRows, completed_at: dt.datetime) -> None:
    study = rows.summary["study"]
    with store.connect() as con:
        con.execute("BEGIN")
        for table in TABLES:
            con.execute(f"DELETE FROM {table} WHERE study = ?", [study])
        summary = {**rows.summary, "completed_at": completed_at.replace(tzinfo=None)}
        cols = ", ".join(summary)
        con.execute(
            f"INSERT INTO studies ({cols}, contract_version) "
            f"VALUES ({', '.join('?' * len(summary))}, ?)",
            [*summary.values(), CONTRACT_VERSION],
        )
        for table, frame in (
            ("study_trials", rows.trials),
            ("study_returns", rows.returns),
            ("study_folds", rows.folds),
        ):
            if frame.empty:
                continue
            con.register("incoming", frame)
            names = ", ".join(frame.columns)
            extra = ", contract_version" if table == "study_trials" else ""
            value = f", '{CONTRACT_VERSION}'" if extra else ""
            con.execute(
                f"INSERT INTO {table} (study, {names}{extra}) "
                f"SELECT ?, {names}{value} FROM incoming",
                [study],
            )
            con.unregister("incoming")
        con.execute("COMMIT")


def register_study(store: ResultStore, spec: StudySpec) -> None:
    """Store a study's spec (its results, if any, are kept until it runs again)."""
    with store.connect() as con:
        con.execute(
            "INSERT INTO studies (study, spec, trials, dropped, contract_version) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (study) DO UPDATE SET spec = excluded.spec, "
            "trials = excluded.trials, dropped = excluded.dropped",
            [spec.name, spec.model_dump_json(), len(spec.trials), spec.dropped, CONTRACT_VERSION],
        )


def study_market_data(store: ResultStore) -> list[MarketDataConfig]:
    """The market data of every registered study (what market_prices loads for them)."""
    with store.connect() as con:
        specs = [
            StudySpec.model_validate_json(r[0])
            for r in con.execute("SELECT spec FROM studies ORDER BY study").fetchall()
        ]
    return [s.trials[0].market_data for s in specs if s.trials]


def study_spec(store: ResultStore, study: str) -> StudySpec:
    return StudySpec.model_validate_json(study_summary(store, study)["spec"])


def study_summary(store: ResultStore, study: str) -> dict[str, Any]:
    with store.connect() as con:
        cursor = con.execute("SELECT * FROM studies WHERE study = ?", [study])
        row = cursor.fetchone()
        if row is None:
            known = [r[0] for r in con.execute("SELECT study FROM studies ORDER BY 1").fetchall()]
            raise StoreError(
                f"unknown study {study!r} (stored: {', '.join(known) or 'none'})",
                where=str(store.path),
                fix="run it first: trading-assets study run --config FILE",
            )
        return dict(zip([c[0] for c in cursor.description], row, strict=True))


def study_trials(store: ResultStore, study: str) -> pd.DataFrame:
    """Every trial's figures, with one column per parameter, best Sharpe first."""
    study_summary(store, study)  # an unknown study names the stored ones
    frame = store.query(
        f"SELECT {TRIAL_COLUMNS} FROM study_trials WHERE study = ? "
        "ORDER BY sharpe DESC NULLS LAST, trial",
        [study],
    )
    if frame.empty:
        return frame.drop(columns=["params"])
    params = pd.DataFrame([json.loads(p) for p in frame["params"]])
    return pd.concat([frame[["trial"]], params, frame.drop(columns=["trial", "params"])], axis=1)


def study_returns(store: ResultStore, study: str) -> pd.DataFrame:
    """Daily returns, one column per trial, indexed by date."""
    frame = store.query(
        "SELECT trial, date, daily_return FROM study_returns WHERE study = ? ORDER BY date",
        [study],
    )
    return frame.pivot(index="date", columns="trial", values="daily_return")


def study_folds(store: ResultStore, study: str) -> pd.DataFrame:
    return store.query(
        "SELECT * EXCLUDE (study) FROM study_folds WHERE study = ? ORDER BY fold", [study]
    )


def trial_spec(store: ResultStore, study: str, trial: str) -> ModelSpec:
    """The stored spec of one trial (what `promote` registers as a model)."""
    for candidate in study_spec(store, study).trials:
        if candidate.signature == trial:
            return candidate
    raise StoreError(
        f"study {study!r} has no trial {trial!r}",
        where=str(store.path),
        fix=f"pick one of `trading-assets study show {study}`",
    )
