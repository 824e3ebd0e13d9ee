"""The scheduled collection job: configuration -> repositories, collectors -> records -> database.

`sync.py` turns the configuration into community and repository rows; `store.py` upserts collector records on their
natural keys; `lock.py` keeps two runs from overlapping; `job.py` runs repositories concurrently, writing each page's
records and its bookmark in one transaction; `status.py` reports per repository.
"""
