"""Jobs: planning, launching, watching, cancelling and finishing a run of model-days.

The layer between the command line (cli/: parsing and printing) and the Dagster
definitions (defs/). A job is submitted once (`submit.submit`); `backfill` watches it
in the foreground, `trigger` hands it to a detached supervisor. A `launch.Launcher`
starts its Dagster runs (range runs in this process or in worker processes, or an
asset backfill for the daemon); Dagster's run and backfill status says when it is
done, and the store's job rows (store/jobs.py) mirror it. This package's own import
is light: `jobs.quiet` and `jobs.specs` load without Dagster (a config error is
reported before Dagster is imported).
"""
