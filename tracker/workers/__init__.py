"""Collection spread over workers and machines (PostgreSQL only), on the procrastinate job queue.

`mtx collect --enqueue` (``enqueue.py``) plans a run as `mtx collect` does (configuration synced, organisations
listed, one run row) and queues one job per repository, in a queue named after its platform; `mtx worker`
(``worker.py``) runs them: each job is ``CollectionJob.collect_one`` (the same page + bookmark transactions as a
single-process run), under a job lock per repository; people resolution is one coalesced job queued after them,
which also closes the run. Tokens share one quota in PostgreSQL (``tracker.quota``). SQLite stays single-process.
"""
