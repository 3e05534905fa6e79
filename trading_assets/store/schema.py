"""Versioned schema of the result store. Append a migration; never edit a shipped one.

Every migration runs on both backends: on a DuckDB file, and on PostgreSQL through
DuckDB's postgres extension (store/postgres.py), which translates DuckDB's DDL. Keep new
migrations portable: CREATE TABLE with DuckDB types (VARCHAR, DOUBLE, VARCHAR[],
TIMESTAMPTZ ...), ALTER TABLE ... ADD COLUMN without a DEFAULT (the extension refuses
one), views whose SQL PostgreSQL also accepts (it receives their text: `count(col)`,
not `count(*)`, which DuckDB renders as count_star()). A migration that cannot be both
gets its PostgreSQL form in POSTGRES_MIGRATIONS, under the same number.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "v1alpha1 result tables",
        """
        CREATE TABLE models (
            signature VARCHAR PRIMARY KEY, agent VARCHAR NOT NULL, spec VARCHAR NOT NULL,
            config_hash VARCHAR NOT NULL, registered_at TIMESTAMP NOT NULL,
            contract_version VARCHAR NOT NULL);
        CREATE TABLE prices (
            source VARCHAR NOT NULL, date DATE NOT NULL, symbol VARCHAR NOT NULL,
            open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE,
            PRIMARY KEY (source, date, symbol));
        CREATE TABLE model_days (
            model VARCHAR NOT NULL, date DATE NOT NULL, status VARCHAR NOT NULL,
            stage VARCHAR, progress INTEGER, cash DOUBLE, portfolio_value DOUBLE,
            positions_value DOUBLE, daily_return DOUBLE, cumulative_return DOUBLE,
            n_orders INTEGER, n_filled INTEGER, n_rejected INTEGER, degraded BOOLEAN,
            reason_codes VARCHAR[], data_quality_state VARCHAR, error_code VARCHAR,
            error_message VARCHAR, error_retryable BOOLEAN, run_id VARCHAR, config_hash VARCHAR,
            started_at TIMESTAMP, completed_at TIMESTAMP, contract_version VARCHAR NOT NULL,
            PRIMARY KEY (model, date));
        CREATE TABLE orders (
            model VARCHAR NOT NULL, date DATE NOT NULL, seq INTEGER NOT NULL,
            symbol VARCHAR, side VARCHAR, quantity BIGINT, status VARCHAR NOT NULL,
            price DOUBLE, commission DOUBLE, reason VARCHAR, contract_version VARCHAR NOT NULL,
            PRIMARY KEY (model, date, seq));
        CREATE TABLE holdings (
            model VARCHAR NOT NULL, date DATE NOT NULL, symbol VARCHAR NOT NULL,
            shares BIGINT NOT NULL, close DOUBLE, market_value DOUBLE, stale BOOLEAN,
            contract_version VARCHAR NOT NULL, PRIMARY KEY (model, date, symbol));
        CREATE TABLE signals (
            model VARCHAR NOT NULL, date DATE NOT NULL, symbol VARCHAR NOT NULL,
            direction INTEGER, confidence DOUBLE, rating VARCHAR, reasoning VARCHAR,
            degraded BOOLEAN, reason_codes VARCHAR[],
            quant_available BOOLEAN, quant_direction INTEGER, quant_confidence DOUBLE,
            quant_rating VARCHAR, quant_reason_code VARCHAR,
            llm_available BOOLEAN, llm_direction INTEGER, llm_confidence DOUBLE,
            llm_rating VARCHAR, llm_reason_code VARCHAR,
            source_diagnostics VARCHAR, data_quality_state VARCHAR, data_quality VARCHAR,
            contract_version VARCHAR NOT NULL, PRIMARY KEY (model, date, symbol));
        CREATE TABLE llm_cache (
            model VARCHAR NOT NULL, prompt_hash VARCHAR NOT NULL, rating VARCHAR,
            rationale VARCHAR, raw_content VARCHAR, created_at TIMESTAMP,
            PRIMARY KEY (model, prompt_hash));
        """,
    ),
    (
        2,
        "legacy import and parity tables",
        """
        CREATE TABLE legacy_positions (
            model VARCHAR NOT NULL, date DATE NOT NULL, id INTEGER NOT NULL, action VARCHAR,
            symbol VARCHAR, amount BIGINT, cash DOUBLE NOT NULL, positions VARCHAR NOT NULL,
            source_file VARCHAR NOT NULL, line_no INTEGER NOT NULL, imported_at TIMESTAMP,
            PRIMARY KEY (model, id));
        CREATE TABLE legacy_logs (
            model VARCHAR NOT NULL, date DATE NOT NULL, line_no INTEGER NOT NULL,
            seq INTEGER NOT NULL, role VARCHAR, content VARCHAR,
            PRIMARY KEY (model, date, line_no, seq));
        CREATE TABLE legacy_issues (
            model VARCHAR, file VARCHAR NOT NULL, line INTEGER, code VARCHAR NOT NULL,
            message VARCHAR, rejected BOOLEAN NOT NULL, imported_at TIMESTAMP);
        CREATE TABLE parity_results (
            model VARCHAR NOT NULL, date DATE NOT NULL, check_name VARCHAR NOT NULL,
            passed BOOLEAN NOT NULL, n_diffs INTEGER NOT NULL, run_id VARCHAR,
            checked_at TIMESTAMP, PRIMARY KEY (model, date, check_name));
        CREATE TABLE parity_diffs (
            model VARCHAR NOT NULL, date DATE NOT NULL, check_name VARCHAR NOT NULL,
            field VARCHAR NOT NULL, legacy_value VARCHAR, new_value VARCHAR, run_id VARCHAR,
            recorded_at TIMESTAMP);
        """,
    ),
    (
        3,
        "models.enabled: a disabled model keeps its rows but is not scheduled or backfilled",
        "ALTER TABLE models ADD COLUMN enabled BOOLEAN DEFAULT true;",
    ),
    (
        4,
        "corporate actions, their effects per model-day, price sources and listings",
        """
        CREATE TABLE price_sources (
            source VARCHAR PRIMARY KEY, name VARCHAR, has_corporate_actions BOOLEAN,
            load_error VARCHAR);
        INSERT INTO price_sources SELECT DISTINCT source, NULL, NULL, NULL FROM prices;
        CREATE TABLE corporate_actions (
            source VARCHAR NOT NULL, symbol VARCHAR NOT NULL, ex_date DATE NOT NULL,
            split_ratio DOUBLE NOT NULL, dividend DOUBLE NOT NULL,
            PRIMARY KEY (source, symbol, ex_date));
        CREATE TABLE model_day_actions (
            model VARCHAR NOT NULL, date DATE NOT NULL, symbol VARCHAR NOT NULL,
            ex_date DATE NOT NULL, kind VARCHAR NOT NULL, split_ratio DOUBLE NOT NULL,
            dividend DOUBLE NOT NULL, shares_before BIGINT NOT NULL,
            shares_after BIGINT NOT NULL, dividend_cash DOUBLE NOT NULL,
            fraction_cash DOUBLE NOT NULL, fraction_price DOUBLE, cash_change DOUBLE NOT NULL,
            contract_version VARCHAR NOT NULL, PRIMARY KEY (model, date, symbol, ex_date));
        CREATE VIEW listings AS
            SELECT source, symbol, min(date) AS first_date, max(date) AS last_date,
                count(*) AS bars
            FROM prices WHERE open IS NOT NULL OR close IS NOT NULL
            GROUP BY source, symbol;
        """,
    ),
    (
        5,
        "metrics per model",
        """
        CREATE TABLE metrics (
            model VARCHAR PRIMARY KEY, first_date DATE, last_date DATE, days INTEGER,
            risk_free_rate DOUBLE, cumulative_return DOUBLE, annual_return DOUBLE,
            annual_volatility DOUBLE, sharpe DOUBLE, sortino DOUBLE, max_drawdown DOUBLE,
            max_drawdown_peak DATE, max_drawdown_trough DATE, calmar DOUBLE, win_rate DOUBLE,
            profit_loss_ratio DOUBLE, benchmark VARCHAR, benchmark_return DOUBLE,
            excess_return DOUBLE, alpha DOUBLE, beta DOUBLE, traded_value DOUBLE,
            turnover DOUBLE, fees_paid DOUBLE, exposure DOUBLE, filled_orders INTEGER);
        """,
    ),
    (
        6,
        "jobs and their model-days",
        """
        CREATE TABLE jobs (
            job_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, status VARCHAR NOT NULL,
            models VARCHAR[] NOT NULL, start_date DATE, end_date DATE,
            total_model_days INTEGER NOT NULL, dagster_backfill_id VARCHAR, owner_pid INTEGER,
            owner_host VARCHAR, created_at TIMESTAMP NOT NULL, started_at TIMESTAMP,
            completed_at TIMESTAMP, error VARCHAR, contract_version VARCHAR NOT NULL);
        CREATE TABLE job_model_days (
            job_id VARCHAR NOT NULL, model VARCHAR NOT NULL, date DATE NOT NULL,
            status VARCHAR NOT NULL, error VARCHAR, run_id VARCHAR, updated_at TIMESTAMP,
            PRIMARY KEY (job_id, model, date));
        """,
    ),
    (
        10,
        "point-in-time documents for get_information",
        """
        CREATE TABLE documents (
            source VARCHAR NOT NULL, file VARCHAR NOT NULL, line INTEGER NOT NULL,
            doc_id VARCHAR NOT NULL, published_at TIMESTAMPTZ NOT NULL,
            symbols VARCHAR[] NOT NULL, title VARCHAR NOT NULL, body VARCHAR NOT NULL,
            doc_source VARCHAR NOT NULL, url VARCHAR, ingested_at TIMESTAMPTZ NOT NULL,
            contract_version VARCHAR NOT NULL, PRIMARY KEY (source, file, line));
        """,
    ),
]


def _shipped(version: int) -> str:
    return next(sql for v, _, sql in MIGRATIONS if v == version)


# The PostgreSQL form of shipped migrations the extension cannot pass through as they are.
POSTGRES_MIGRATIONS: dict[int, str] = {
    # ADD COLUMN ... DEFAULT: the column, then its default set by PostgreSQL itself
    3: "ALTER TABLE models ADD COLUMN enabled BOOLEAN;"
    " CALL postgres_execute('store', 'ALTER TABLE models ALTER COLUMN enabled SET DEFAULT true');"
    " UPDATE models SET enabled = true;",
    # the same view: date is NOT NULL, so count(date) counts the rows as count(*) does
    4: _shipped(4).replace("count(*) AS bars", "count(date) AS bars"),
}
