"""Scheduled jobs' state: one row per job holding its lease (which runner may run it now) and the record of
its last run (start, finish, counts, error, next run). Foundation, no domain words: the schedule itself is
config/jobs.py and the runners live in gridgov.interfaces.jobs."""
