"""When the automation sensor should request a model-day by itself."""

import dagster as dg

# After the US close (18:00 New York is still the same UTC date, so the newest weekday
# partition is today's), request each model's newest day once, provided its previous
# day exists: the chain is never skipped. The trading_day_automation sensor launches the
# requests as a backfill (one run per model).
# Refresh analytics after new model-days, but never while a blocking check (legacy
# parity) has failed: eager() alone does not look at checks. "Not failed" rather than
# all_deps_blocking_checks_passed(): legacy_parity is skipped (never evaluated) on
# models without a legacy record, and a skipped check never counts as passed.
AFTER_PASSING_CHECKS = dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_match(
    dg.AutomationCondition.all_checks_match(
        ~dg.AutomationCondition.check_failed(), blocking_only=True
    ).with_label("no_blocking_check_failed")
).with_label("all_deps_no_blocking_check_failed")

NEW_TRADING_DAY = (
    dg.AutomationCondition.in_latest_time_window()
    & dg.AutomationCondition.cron_tick_passed(
        "0 18 * * 1-5", "America/New_York"
    ).since_last_handled()
    # documents: only llm_trader models with a source read them (and such a model's
    # day fails with the fix if they were never ingested), so they never hold back the rest
    & ~dg.AutomationCondition.any_deps_missing().ignore(dg.AssetSelection.assets("documents"))
    & ~dg.AutomationCondition.in_progress()
)
