"""Plain git hosting (a clone URL, no REST API). No collector yet: its repositories are recorded and skipped."""
from collector.platforms import Platform

PLATFORM = Platform(
    name="git",
    label_zh="Git",
    label_en="Git",
    streams=("commits", "releases", "contributors"),  # what a clone can give (tags as releases), once collected
    checks_paths=False,
    logins=False,  # commits name e-mail addresses only
)
