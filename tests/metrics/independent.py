"""Every `mtx metrics` signal computed a second way: pandas over the raw tables, from issue 17's definitions.

Written from the words of the issue (and the brief that restates them), never from tracker.metrics or
tracker.people.attribution, so that a test comparing the two catches a wrong aggregate, a wrong window edge, a mirror
counted twice or a person counted as two. Only collector.registry is shared: it is the declaration of which streams a
platform serves, an input here as much as there.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import text

from collector import registry

BEIJING = dt.timezone(dt.timedelta(hours=8))
MONTH_DAYS = 30.44
ONE_DAY = pd.Timedelta(days=1)

# signal -> (the stream behind it, default window in days or None, always-unavailable reason or None)
SIGNALS: dict[str, tuple[str | None, int | None, str | None]] = {
    "created_since": ("repo", None, None),
    "updated_since": ("commits", None, None),
    "contributor_count": ("commits", 365, None),
    "commit_frequency": ("commits", 365, None),
    "recent_releases_count": ("releases", 365, None),
    "closed_issues_count": ("issues", 90, None),
    "updated_issues_count": ("issues", 90, None),
    "comment_frequency": ("issues", 90, None),
    "issue_first_response_days": ("issues", 90, None),
    "pr_merge_days": ("pulls", 90, None),
    "closed_prs_count": ("pulls", 90, None),
    "code_review_count": ("pulls", 90, "not provided"),
    "org_count": ("commits", 365, None),
    "top_org_commit_share": ("commits", 365, None),
    "star_count": ("repo", None, None),
    "fork_count": ("repo", None, None),
    "chongqing_contributor_count": ("commits", 365, None),
    "chongqing_commit_share": ("commits", 365, None),
    "dependents_count": (None, None, "no source"),
}


@dataclass(frozen=True)
class Expected:
    value: float | int | None
    reason: str | None
    repositories: int
    window: int | None


def day_end(day: dt.date) -> pd.Timestamp:
    """The end (exclusive) of a Beijing date, as a UTC instant."""
    return pd.Timestamp(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), BEIJING)).tz_convert("UTC")


def window_start(day: dt.date, days: int) -> pd.Timestamp:
    """The first instant of an N-day window ending with Beijing date `day`: (day - N + 1) 00:00 +08:00."""
    return day_end(day - dt.timedelta(days=days))


def _utc(series: pd.Series) -> pd.Series:
    """SQLite hands back naive UTC text, PostgreSQL aware datetimes: both become tz-aware UTC timestamps."""
    return pd.to_datetime(series, utc=True, format="ISO8601")


def _day(series: pd.Series) -> pd.Series:
    """A DATE column (text on SQLite, date on PostgreSQL) as 'YYYY-MM-DD' text, None kept."""
    return series.map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)[:10])


def _flag(series: pd.Series) -> pd.Series:
    return series.map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else bool(v))


class RawTables:
    """The raw rows the signals are made of, read once with plain SQL."""

    def __init__(self, conn, as_of: dt.date) -> None:
        self.as_of = as_of
        self.end = day_end(as_of)
        q = lambda sql: pd.read_sql_query(text(sql), conn)  # noqa: E731
        self.members = q("SELECT c.slug, r.id AS repository_id, r.platform FROM community_repositories cr "
                         "JOIN communities c ON c.id = cr.community_id JOIN repositories r ON r.id = cr.repository_id")
        self.slugs = sorted(q("SELECT slug FROM communities")["slug"])
        commits = q("SELECT c.id, c.repository_id, c.sha, c.author_time, c.is_merge, c.is_bot AS commit_bot, "
                    "c.author_identity_id AS identity_id, i.person_id, i.organisation_id AS identity_org, "
                    "i.is_bot AS identity_bot, p.is_bot AS person_bot "
                    "FROM commits c LEFT JOIN commit_identities i ON i.id = c.author_identity_id "
                    "LEFT JOIN people p ON p.id = i.person_id")
        commits["author_time"] = _utc(commits["author_time"])
        for column in ("is_merge", "commit_bot", "identity_bot", "person_bot"):
            commits[column] = _flag(commits[column])
        self.commits = commits
        self.affiliations = q("SELECT person_id, organisation_id, start_date, end_date FROM affiliations")
        self.affiliations["start_date"] = _day(self.affiliations["start_date"])
        self.affiliations["end_date"] = _day(self.affiliations["end_date"])
        orgs = q("SELECT id, chongqing_local FROM organisations")
        self.chongqing = {int(i) for i, local in zip(orgs["id"], orgs["chongqing_local"]) if local}
        self.issues = q("SELECT repository_id, created_at, updated_at, closed_at, comments, first_response_at "
                        "FROM issues")
        for column in ("created_at", "updated_at", "closed_at", "first_response_at"):
            self.issues[column] = _utc(self.issues[column])
        self.pulls = q("SELECT repository_id, created_at, closed_at, merged_at FROM pull_requests")
        for column in ("created_at", "closed_at", "merged_at"):
            self.pulls[column] = _utc(self.pulls[column])
        self.releases = q("SELECT repository_id, tag, published_at FROM releases")
        self.releases["published_at"] = _utc(self.releases["published_at"])
        snapshots = q("SELECT repository_id, taken_on, stars, forks, created_at FROM repository_snapshots")
        snapshots["taken_on"] = _day(snapshots["taken_on"])
        snapshots["created_at"] = _utc(snapshots["created_at"])
        on_or_before = snapshots[snapshots["taken_on"] <= as_of.isoformat()]
        self.latest_snapshot = on_or_before.sort_values("taken_on").groupby("repository_id").tail(1) \
            .set_index("repository_id")
        streams = q("SELECT repository_id, stream, last_success_at FROM collection_streams")
        streams["last_success_at"] = _utc(streams["last_success_at"])
        # as-of is weeks past here, so "collected" is simply: collected to its end after as-of ended
        done = streams[streams["last_success_at"].notna() & (streams["last_success_at"] >= self.end)]
        self.collected = {(int(r), s) for r, s in zip(done["repository_id"], done["stream"])}

    # --- commits as a community counts them ----------------------------------------------------------------------

    def author_rows(self) -> pd.DataFrame:
        """Every commit with its author (person, or the identity as its own pseudo-person), bot flag and organisation
        on its Beijing date."""
        c = self.commits.copy()
        if c["identity_id"].isna().any():
            raise AssertionError("a commit without an author identity: the definitions do not say who wrote it")
        has_person = c["person_id"].notna()
        c["author"] = [f"p{int(p)}" if h else f"i{int(i)}" for p, i, h in zip(c["person_id"], c["identity_id"],
                                                                             has_person)]
        c["bot"] = [pb if h else (ib if ib is not None else cb)
                    for pb, ib, cb, h in zip(c["person_bot"], c["identity_bot"], c["commit_bot"], has_person)]
        c["beijing_day"] = c["author_time"].dt.tz_convert(BEIJING).dt.strftime("%Y-%m-%d")
        dated = c.loc[has_person, ["id", "person_id", "beijing_day"]].merge(self.affiliations, on="person_id")
        covering = dated[(dated["start_date"].isna() | (dated["start_date"] <= dated["beijing_day"])) &
                         (dated["end_date"].isna() | (dated["beijing_day"] < dated["end_date"]))]
        twice = covering["id"].duplicated(keep=False)
        if twice.any():
            raise AssertionError(f"commits with two affiliations on their date (the definition picks none): "
                                 f"{sorted(covering.loc[twice, 'id'])[:5]}")
        by_affiliation = dict(zip(covering["id"], covering["organisation_id"]))
        c["organisation"] = [by_affiliation.get(i, o) for i, o in zip(c["id"], c["identity_org"])]
        c["organisation"] = c["organisation"].map(lambda o: None if o is None or pd.isna(o) else int(o))
        c["chongqing"] = c["organisation"].map(lambda o: o in self.chongqing)
        return c

    def community_commits(self) -> pd.DataFrame:
        """Per community: one row per sha (its smallest commits.id there), counted ones only, before the end.

        The sha's row is chosen first and then judged (merge, bot, time); on the sample the rows of one sha agree on
        all of those, so the other order would give the same."""
        rows = self.members[["slug", "repository_id"]].merge(self.author_rows(), on="repository_id")
        first = rows.sort_values("id").drop_duplicates(["slug", "sha"], keep="first")
        counted = first[(first["is_merge"] == False) & (first["bot"] == False)  # noqa: E712
                        & first["author_time"].notna() & (first["author_time"] < self.end)]
        return counted

    # --- the signals -------------------------------------------------------------------------------------------------

    def expected(self) -> dict[str, dict[str, Expected]]:
        """community slug -> signal -> what `mtx metrics --format json` should say."""
        commits = self.community_commits()
        out = {}
        for slug in self.slugs:
            repos = self.members[self.members["slug"] == slug]
            mine = commits[commits["slug"] == slug]
            out[slug] = {name: self._signal(name, repos, mine) for name in SIGNALS}
        return out

    def _signal(self, name: str, repos: pd.DataFrame, commits: pd.DataFrame) -> Expected:
        stream, window, unavailable = SIGNALS[name]
        if unavailable:
            return Expected(None, unavailable, 0, window)
        counted = [int(r) for r, p in zip(repos["repository_id"], repos["platform"])
                   if stream in registry.get(p).figure_streams]  # the declaration: an input, as in the code
        if not counted:
            return Expected(None, "not provided", 0, window)
        if any((r, stream) not in self.collected for r in counted):
            return Expected(None, "not collected", len(counted), window)
        value = getattr(self, name)(counted, commits, window)
        return Expected(value, None if value is not None else "no activity", len(counted), window)

    def in_window(self, series: pd.Series, days: int) -> pd.Series:
        return series.notna() & (series >= window_start(self.as_of, days)) & (series < self.end)

    def _commits(self, commits: pd.DataFrame, days: int) -> pd.DataFrame:
        return commits[self.in_window(commits["author_time"], days)]

    def _months_since(self, instant: pd.Timestamp) -> float:
        return (self.end - instant) / ONE_DAY / MONTH_DAYS

    def _snapshots(self, repos: list[int]) -> pd.DataFrame:
        return self.latest_snapshot[self.latest_snapshot.index.isin(repos)]

    def created_since(self, repos, commits, window):
        created = self._snapshots(repos)["created_at"].dropna()
        return self._months_since(created.min()) if len(created) else None

    def updated_since(self, repos, commits, window):
        return self._months_since(commits["author_time"].max()) if len(commits) else None

    def contributor_count(self, repos, commits, window):
        return int(self._commits(commits, window)["author"].nunique())

    def commit_frequency(self, repos, commits, window):
        return len(self._commits(commits, window)) / (window / 7)

    def org_count(self, repos, commits, window):
        return int(self._commits(commits, window)["organisation"].dropna().nunique())

    def top_org_commit_share(self, repos, commits, window):
        c = self._commits(commits, window)
        if not len(c):
            return None
        per_org = c["organisation"].dropna().value_counts()
        return (int(per_org.max()) if len(per_org) else 0) / len(c)

    def chongqing_contributor_count(self, repos, commits, window):
        c = self._commits(commits, window)
        return int(c.loc[c["chongqing"], "author"].nunique())

    def chongqing_commit_share(self, repos, commits, window):
        c = self._commits(commits, window)
        return int(c["chongqing"].sum()) / len(c) if len(c) else None

    def recent_releases_count(self, repos, commits, window):
        r = self.releases[self.releases["repository_id"].isin(repos)]
        return int(r.loc[self.in_window(r["published_at"], window), "tag"].nunique())

    def _issues(self, repos):
        return self.issues[self.issues["repository_id"].isin(repos)]

    def closed_issues_count(self, repos, commits, window):
        return int(self.in_window(self._issues(repos)["closed_at"], window).sum())

    def updated_issues_count(self, repos, commits, window):
        return int(self.in_window(self._issues(repos)["updated_at"], window).sum())

    def comment_frequency(self, repos, commits, window):
        i = self._issues(repos)
        counts = i.loc[self.in_window(i["updated_at"], window), "comments"].dropna()
        return float(counts.mean()) if len(counts) else None

    def issue_first_response_days(self, repos, commits, window):
        i = self._issues(repos)
        opened = i[self.in_window(i["created_at"], window)]
        answered = opened["first_response_at"].notna() & (opened["first_response_at"] < self.end)
        until = opened["first_response_at"].where(answered, self.end)
        days = (until - opened["created_at"]) / ONE_DAY
        return float(days.median()) if len(days) else None

    def _pulls(self, repos):
        return self.pulls[self.pulls["repository_id"].isin(repos)]

    def pr_merge_days(self, repos, commits, window):
        p = self._pulls(repos)
        merged = p[self.in_window(p["merged_at"], window)]
        days = (merged["merged_at"] - merged["created_at"]) / ONE_DAY
        return float(days.median()) if len(days) else None

    def closed_prs_count(self, repos, commits, window):
        p = self._pulls(repos)
        return int(self.in_window(p["merged_at"].fillna(p["closed_at"]), window).sum())

    def star_count(self, repos, commits, window):
        return int(self._snapshots(repos)["stars"].fillna(0).sum())

    def fork_count(self, repos, commits, window):
        return int(self._snapshots(repos)["forks"].fillna(0).sum())
