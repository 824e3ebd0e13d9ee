"""Dependency-free modules that both the collector and the tracker import (and that import neither of them).

`common.vocabulary` holds the vocabulary type and the collected-data vocabularies (streams, repository and work-item
states) that the collector must know without importing `tracker`; `common.redaction` masks tokens and credentials;
`common.bilingual` is the error type whose Chinese and English texts are separate fields.
"""
