"""The bundled sample: deterministic, offline, fictional data with realistic shapes, at any scale.

`build_sample(url, scale, seed)` fills an empty database at schema head. Scale 1 is the demo (12 communities and
40 repositories on all five platforms, plus the integrity case of tracker/sample/integrity_case.py; ~20,000 commits
by ~300 people, 15 enterprises, ~35 products); larger scales feed the benchmarks (scale S: 10·S communities, 100·S
repositories, 20,000·S commits). Every name and code is fictional and marked 示例/虚构; no figure is ever attached
to a real name.
"""
from tracker.sample.build import SampleSummary, build_sample, expected_sizes, DEFAULT_AS_OF, DEFAULT_SEED

__all__ = ["SampleSummary", "build_sample", "expected_sizes", "DEFAULT_AS_OF", "DEFAULT_SEED"]
