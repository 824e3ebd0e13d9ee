"""Plain git hosting (a clone URL, no REST API): commits and tags from a mirror (``collector.git``)."""
from collector.platforms import Platform

PLATFORM = Platform(
    name="git",
    label_zh="Git",
    label_en="Git",
    streams=("repo", "commits", "releases"),  # state and default branch, commits, tags as releases
    collector="collector.git:GitCollector",
    repo_figures=False,  # a clone has no stars, forks or creation date: those signals leave git repositories out
    checks_paths=False,  # the path is the normalised clone URL, never put into an API request
    logins=False,  # commits name e-mail addresses only
)
