"""Versioned schema of the result store. Append a migration; never edit a shipped one.

Every migration runs on both backends: on a DuckDB file, and on PostgreSQL through
DuckDB's postgres extension (store/postgres.py), which translates DuckDB's CREATE TABLE;
`ALTER TABLE t ADD COLUMN c TYPE [DEFAULT v]` is handed to PostgreSQL by
`postgres.for_postgres` (write one column per statement). Keep new migrations portable:
DuckDB types (VARCHAR, DOUBLE, INTEGER, BIGINT, BOOLEAN, DATE, TIMESTAMP, TIMESTAMPTZ,
VARCHAR[]), plain DML, views whose SQL PostgreSQL also accepts (it receives their text
as DuckDB renders it: `count(col)`, not `count(*)`, which becomes count_star()). A
migration that still cannot be both gets its PostgreSQL form in POSTGRES_MIGRATIONS,
under the same number. `make test` applies every migration on both.
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
        7,
        "metrics: active return, tracking error, information ratio; the model's config",
        """
        ALTER TABLE metrics ADD COLUMN active_return DOUBLE;
        ALTER TABLE metrics ADD COLUMN tracking_error DOUBLE;
        ALTER TABLE metrics ADD COLUMN information_ratio DOUBLE;
        ALTER TABLE metrics ADD COLUMN config_hash VARCHAR;
        ALTER TABLE metrics ADD COLUMN params VARCHAR;
        """,
    ),
    (
        8,
        "llm_cache: drop answers under the old model@host identity",
        # The cache identity became model@scheme://host:port/path (llm/endpoint.py:
        # cache_identity): an answer cached under model@host cannot be told apart between
        # two servers on that host, so it is never read again; and it may hold an API key
        # decoded from a provider's echo (issue 16). Kept: rows of the new identity.
        """
        DELETE FROM llm_cache
        WHERE model NOT LIKE '%@http://%' AND model NOT LIKE '%@https://%';
        """,
    ),
    (
        9,
        "llm_trader conversations: reasoning_logs, tool_usage and llm_usage per model-day",
        """
        CREATE TABLE reasoning_logs (
            model VARCHAR NOT NULL, date DATE NOT NULL, seq INTEGER NOT NULL,
            step INTEGER NOT NULL, role VARCHAR NOT NULL, content VARCHAR, tool_calls VARCHAR,
            tool_call_id VARCHAR, prompt_tokens INTEGER, completion_tokens INTEGER,
            total_tokens INTEGER, latency_ms DOUBLE, finish_reason VARCHAR,
            contract_version VARCHAR NOT NULL, PRIMARY KEY (model, date, seq));
        CREATE TABLE tool_usage (
            model VARCHAR NOT NULL, date DATE NOT NULL, seq INTEGER NOT NULL,
            step INTEGER NOT NULL, tool_call_id VARCHAR NOT NULL, tool_name VARCHAR NOT NULL,
            arguments VARCHAR, result VARCHAR, error VARCHAR, refusal VARCHAR,
            latency_ms DOUBLE, contract_version VARCHAR NOT NULL,
            PRIMARY KEY (model, date, seq));
        CREATE TABLE llm_usage (
            model VARCHAR NOT NULL, date DATE NOT NULL, endpoint VARCHAR NOT NULL,
            steps INTEGER NOT NULL, requests INTEGER NOT NULL, cache_hits INTEGER NOT NULL,
            prompt_tokens BIGINT NOT NULL, completion_tokens BIGINT NOT NULL,
            total_tokens BIGINT NOT NULL, latency_ms DOUBLE NOT NULL, cost_usd DOUBLE,
            tool_calls INTEGER NOT NULL, tool_errors INTEGER NOT NULL,
            lookahead_refusals INTEGER NOT NULL, confirmed_orders INTEGER NOT NULL,
            end_reason VARCHAR NOT NULL, final_text VARCHAR, error_code VARCHAR,
            error_message VARCHAR, contract_version VARCHAR NOT NULL,
            PRIMARY KEY (model, date));
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
    (
        11,
        "studies: every trial's figures and daily returns, walk-forward folds",
        """
        CREATE TABLE studies (
            study VARCHAR PRIMARY KEY, spec VARCHAR NOT NULL, trials INTEGER NOT NULL,
            dropped INTEGER NOT NULL, first_date DATE, last_date DATE, days INTEGER,
            best_trial VARCHAR, deflated_sharpe DOUBLE, pbo DOUBLE, pbo_splits INTEGER,
            walk_forward_return DOUBLE, completed_at TIMESTAMP,
            contract_version VARCHAR NOT NULL);
        CREATE TABLE study_trials (
            study VARCHAR NOT NULL, trial VARCHAR NOT NULL, params VARCHAR NOT NULL,
            config_hash VARCHAR NOT NULL, status VARCHAR NOT NULL, error VARCHAR,
            final_value DOUBLE, cumulative_return DOUBLE, annual_return DOUBLE,
            annual_volatility DOUBLE, sharpe DOUBLE, sortino DOUBLE, max_drawdown DOUBLE,
            calmar DOUBLE, win_rate DOUBLE, filled_orders INTEGER,
            contract_version VARCHAR NOT NULL, PRIMARY KEY (study, trial));
        CREATE TABLE study_returns (
            study VARCHAR NOT NULL, trial VARCHAR NOT NULL, date DATE NOT NULL,
            daily_return DOUBLE NOT NULL, portfolio_value DOUBLE NOT NULL,
            PRIMARY KEY (study, trial, date));
        CREATE TABLE study_folds (
            study VARCHAR NOT NULL, fold INTEGER NOT NULL, in_sample_start DATE NOT NULL,
            in_sample_end DATE NOT NULL, out_of_sample_start DATE NOT NULL,
            out_of_sample_end DATE NOT NULL, pick VARCHAR NOT NULL,
            in_sample_score DOUBLE NOT NULL, out_of_sample_return DOUBLE NOT NULL,
            PRIMARY KEY (study, fold));
        """,
    ),
    (
        12,
        "metrics: LLM tokens and cost per model, figures after the knowledge cutoff",
        """
        ALTER TABLE metrics ADD COLUMN llm_answers BIGINT;
        ALTER TABLE metrics ADD COLUMN prompt_tokens BIGINT;
        ALTER TABLE metrics ADD COLUMN completion_tokens BIGINT;
        ALTER TABLE metrics ADD COLUMN total_tokens BIGINT;
        ALTER TABLE metrics ADD COLUMN llm_cost_usd DOUBLE;
        ALTER TABLE metrics ADD COLUMN knowledge_cutoff DATE;
        ALTER TABLE metrics ADD COLUMN days_after_cutoff INTEGER;
        ALTER TABLE metrics ADD COLUMN cumulative_return_after_cutoff DOUBLE;
        ALTER TABLE metrics ADD COLUMN sharpe_after_cutoff DOUBLE;
        """,
    ),
    (
        13,
        "study_returns: no declared key (unique by construction; the ART index tripled the insert)",
        # DuckDB cannot drop a constraint with ALTER: the table is made anew, in this
        # migration's transaction. write_study deletes a study's rows before it writes its
        # trial x date rows, generated unique, so the key held nothing the writer doesn't.
        """
        CREATE TABLE study_returns_unkeyed (
            study VARCHAR NOT NULL, trial VARCHAR NOT NULL, date DATE NOT NULL,
            daily_return DOUBLE NOT NULL, portfolio_value DOUBLE NOT NULL);
        INSERT INTO study_returns_unkeyed SELECT * FROM study_returns;
        DROP TABLE study_returns;
        ALTER TABLE study_returns_unkeyed RENAME TO study_returns;
        """,
    ),
]


def _shipped(version: int) -> str:
    return next(sql for v, _, sql in MIGRATIONS if v == version)


# The PostgreSQL form of shipped migrations that store/postgres.py: for_postgres cannot
# translate (a view's SQL goes to PostgreSQL as DuckDB renders it).
POSTGRES_MIGRATIONS: dict[int, str] = {
    # the same view: date is NOT NULL, so count(date) counts the rows as count(*) does
    4: _shipped(4).replace("count(*) AS bars", "count(date) AS bars"),
}
