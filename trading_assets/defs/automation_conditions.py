"""When the automation sensor should request a model-day by itself."""

import dagster as dg

# After the US close (18:00 New York is still the same UTC date, so the newest weekday
# partition is today's), request each model's newest day once, provided its previous
# day exists: the chain is never skipped. The trading_day_automation sensor launches the
# requests as a backfill (one run per model).
# Refresh analytics after new model-days, but never on a day whose blocking check
# (legacy parity) failed: eager() alone does not look at checks.
AFTER_PASSING_CHECKS = (
    dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()
)

NEW_TRADING_DAY = (
    dg.AutomationCondition.in_latest_time_window()
    & dg.AutomationCondition.cron_tick_passed(
        "0 18 * * 1-5", "America/New_York"
    ).since_last_handled()
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.in_progress()
)
