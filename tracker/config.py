"""Configuration: communities, organisations and identities in `config/`, validated with pydantic, every problem at once.

Each problem names the file, the key path (and line), what is wrong and how to fix it. Schema errors come from pydantic;
semantic checks (unknown hosts, duplicates, unset token variables, contradictory award rules, unknown signals in a
model) run on top of a schema-valid file. Tokens never live in files: only the *names* of environment variables do.
Reading YAML with line numbers and `Problem` live in tracker.yamlsource; the award rule set's schema in
tracker.ledger.schema; the scoring models in tracker.scoring: check_config runs all of them.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator

from collector import registry
from collector.addresses import api_root, api_url_problem, normalise_path, normalise_text, path_problem
from common.redaction import redact_text, redact_url
from tracker.ledger.schema import AwardRuleSet, check_award_rules
from tracker.scoring.loading import available_model_names
from tracker.scoring.validate import validate_model_file
from tracker.vocab import FOCUS_FIELDS
from tracker.yamlsource import ConfigError, Problem, Strict, YamlSource, read_yaml, validate_source

FocusField = Literal[FOCUS_FIELDS.values]  # type: ignore[valid-type]  # tracker.vocab


def _declared_platform(value: str) -> str:
    """A platform name as the registry declares it (collector/platforms/); an alias becomes the name."""
    platform = registry.find(value) if isinstance(value, str) else None
    if platform is None:
        raise ValueError(registry.unknown_message(value))
    return platform.name


PlatformName = Annotated[str, AfterValidator(_declared_platform)]
ENV_VAR_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


# --- schema -----------------------------------------------------------------------------------------------------------


class PlatformQuota(Strict):
    """Requests per token and window for a platform that sends no rate-limit headers (`mtx worker`'s shared quota)."""
    requests: int = Field(..., ge=1)
    window_seconds: float = Field(3600.0, gt=0)


class PlatformSettings(Strict):
    api_url: str | None = None
    token_env: list[str] = Field(default_factory=list, description="names of environment variables holding tokens")
    commits_via: Literal["api", "git"] = Field("api", description="git: commits of this platform's repositories "
                                               "from clones (saves the quota commit pages cost)")
    quota: PlatformQuota | None = None

    @field_validator("token_env", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("token_env")
    @classmethod
    def _names_only(cls, value: list[str]) -> list[str]:
        return _env_names(value)


def _env_names(value: list[str]) -> list[str]:
    for name in value:
        if not ENV_VAR_RE.match(name):
            raise ValueError(f"{name[:4]}… is not an environment variable name (A-Z, 0-9, _): "
                             "put the token in an environment variable and write its name here, never the token")
    return value


class RepositoryRef(Strict):
    """A repository given as a mapping, for GitHub Enterprise, self-hosted GitLab or a test server; or a plain git
    repository ``{platform: git, url: CLONE_URL}`` (docs/collectors.md, "The git collector")."""

    platform: PlatformName
    api_url: str | None = None
    path: str | None = None
    url: str | None = Field(None, description="clone URL of a platform: git repository")
    web_url: str | None = None
    commits_via: Literal["api", "git"] | None = Field(
        None, description="git: commits from a clone of the repository, the other streams from the API")
    clone_url: str | None = Field(None, description="the clone URL commits_via: git uses (default: from the web host)")
    token_env: list[str] = Field(default_factory=list,
                                 description="platform: git only: variables holding a token for the clone URL's host")

    @field_validator("token_env", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("token_env")
    @classmethod
    def _names_only(cls, value: list[str]) -> list[str]:
        return _env_names(value)

    @field_validator("path")
    @classmethod
    def _path_has_owner(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = normalise_path(value)  # NFKC, trimmed, zero-width characters removed: one spelling per path
        if value.count("/") < 1:
            raise ValueError("a repository path is owner/name (GitLab: group/subgroup/name)")
        return value

    @model_validator(mode="after")
    def _git_or_api(self) -> "RepositoryRef":
        from collector.gitclone import InvalidCloneUrl, normalise_clone_url

        if self.platform == "git":
            if not self.url:
                raise ValueError("a platform: git repository needs url: CLONE_URL (https://…, ssh://…, "
                                 "git@host:path or file:///…)")
            if self.path or self.api_url or self.commits_via or self.clone_url:
                raise ValueError("a platform: git repository takes url: (and web_url:, token_env:) only; "
                                 "path:, api_url:, commits_via: and clone_url: belong to API repositories")
            try:
                normalise_clone_url(self.url)
            except InvalidCloneUrl as exc:
                raise ValueError(str(exc)) from None
        else:
            if not self.path:
                raise ValueError("give path: owner/name (url: is for platform: git)")
            if self.url:
                raise ValueError("url: is for platform: git repositories; an API repository takes path: "
                                 "(and clone_url: with commits_via: git)")
            if self.token_env:
                raise ValueError("token_env: on a repository is for platform: git; API tokens are set under "
                                 "platforms.<platform>.token_env")
            if self.clone_url:
                try:
                    normalise_clone_url(self.clone_url)
                except InvalidCloneUrl as exc:
                    raise ValueError(f"clone_url: {exc}") from None
        return self


class OrganisationEntry(Strict):
    """A whole organisation or group whose repositories are discovered on each run."""

    url: str | None = None
    platform: PlatformName | None = None
    api_url: str | None = None
    path: str | None = None
    include: list[str] = Field(default_factory=list, description="glob patterns of repository names to keep")
    exclude: list[str] = Field(default_factory=list, description="glob patterns of repository names to drop")
    archived: bool = Field(False, description="also collect archived repositories")
    forks: bool = Field(False, description="also collect forks")

    @model_validator(mode="after")
    def _url_or_mapping(self) -> "OrganisationEntry":
        if not self.url and not (self.platform and self.path):
            raise ValueError("give either url: or platform: + path:")
        return self


class CommunityEntry(Strict):
    slug: str
    name: str = Field(description="中文名称")
    name_en: str | None = None
    focus: FocusField = "other"
    applicant: str | None = Field(None, description="申报单位")
    homepage: str | None = None
    description: str | None = None
    repositories: list[str | RepositoryRef] = Field(default_factory=list)
    organisations: list[str | OrganisationEntry] = Field(default_factory=list)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG_RE.match(value):
            raise ValueError("slug must be lower-case letters, digits and '-', e.g. easyxmen")
        return value


class CollectionSettings(Strict):
    first_response_days: int = Field(180, ge=0, description="fetch first responses for items updated this recently")
    overlap_minutes: int = Field(60, ge=0, description="look-back overlap for incremental collection")
    concurrency: int = Field(4, ge=1, le=64)
    max_retries: int = Field(6, ge=0, le=20, description="retries of a request on timeouts, broken bodies and 5xx")
    timeout_seconds: float = Field(30.0, gt=0, le=600, description="per connect and per read")
    request_deadline_seconds: float = Field(120.0, gt=0, le=3600,
                                            description="one whole request, connect to last byte")
    max_pages_per_stream: int = Field(10_000, ge=1, description="pages of one stream per run; beyond: partial, "
                                                                "resumed by the next run")
    bot_patterns: list[str] = Field(default_factory=list)
    git_cache: str | None = Field(None, description="directory of the git mirrors (default beside the database; "
                                                    "relative to the configuration directory)")
    git_timeout_seconds: float | None = Field(None, gt=0, le=86400, description="longest clone or fetch "
                                              "(default 1800 s for a clone, 600 s for a fetch)")
    stale_after_days: int = Field(3, ge=0, le=365, description="metrics as of a recent date accept a collection "
                                                               "this many days old (tracker/metrics/compute.py)")


class CommunitiesFile(Strict):
    platforms: dict[PlatformName, PlatformSettings] = Field(default_factory=dict)
    collection: CollectionSettings = Field(default_factory=CollectionSettings)
    communities: list[CommunityEntry] = Field(default_factory=list)


class OrganisationDef(Strict):
    name: str
    kind: Literal["company", "university", "government", "foundation", "other"] = "company"
    chongqing_local: bool = False
    domains: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list, description="other names it goes by (counted once)")

    @field_validator("domains")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [d.strip().lower().lstrip("@").rstrip(".") for d in value]


class OrganisationsFile(Strict):
    free_mail_domains: list[str] = Field(default_factory=list)
    organisations: list[OrganisationDef] = Field(default_factory=list)


class AccountRef(Strict):
    platform: PlatformName
    login: str


class AffiliationDef(Strict):
    organisation: str
    start: dt.date | None = None
    end: dt.date | None = None


class PersonDef(Strict):
    name: str
    emails: list[str] = Field(default_factory=list)
    accounts: list[AccountRef] = Field(default_factory=list)
    affiliations: list[AffiliationDef] = Field(default_factory=list)
    is_bot: bool | None = Field(None, description="true/false overrides the bot rules; unset lets them decide")


class BotRules(Strict):
    patterns: list[str] = Field(default_factory=list, description="regular expressions matched against logins/names")
    emails: list[str] = Field(default_factory=list)
    logins: list[str] = Field(default_factory=list)


class IdentitiesFile(Strict):
    bots: BotRules = Field(default_factory=BotRules)
    people: list[PersonDef] = Field(default_factory=list)
    distinct: list[list[str]] = Field(default_factory=list,
                                      description="groups of e-mails / platform:logins that are different people")
    anonymous_emails: list[str] = Field(default_factory=list,
                                        description="addresses (or * ? patterns) that identify nobody")


# --- the loaded configuration -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepoTarget:
    """A repository resolved from the config: platform, API base and path."""

    platform: str
    api_url: str
    path: str
    web_url: str | None
    commits_via: str = "api"           # "git": commits from a clone of clone_url
    clone_url: str | None = None       # platform git: the URL as configured, credential-free; commits_via: git too
    token_env: tuple[str, ...] = ()    # platform git: variables holding a token for clone_url's origin


@dataclass(frozen=True)
class OrgTarget:
    platform: str
    api_url: str
    path: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    archived: bool
    forks: bool
    web_url: str | None


@dataclass
class Config:
    directory: Path
    communities: CommunitiesFile
    organisations: OrganisationsFile
    identities: IdentitiesFile
    awards: AwardRuleSet | None
    model_files: list[Path] = field(default_factory=list)  # config/models/*.yaml, each validated

    def model_names(self) -> list[str]:
        """Every model `--model` accepts: the presets shipped in tracker/scoring/presets and config/models (a file
        named like a preset overrides it)."""
        return available_model_names(self.directory / "models")

    def api_url(self, platform: str) -> str:
        """The configured API URL of ``platform``, else its declared default ('' when it declares none)."""
        settings = self.communities.platforms.get(platform)  # type: ignore[call-overload]
        declared = registry.find(platform)
        return api_root(platform, settings.api_url if settings and settings.api_url
                        else (declared.default_api_url if declared else None) or "")

    def token_env(self, platform: str) -> list[str]:
        """The configured token variables of ``platform``, else its declared ones."""
        settings = self.communities.platforms.get(platform)  # type: ignore[call-overload]
        if settings and settings.token_env:
            return list(settings.token_env)
        declared = registry.find(platform)
        return list(declared.token_env) if declared else []

    def token_variables(self) -> set[str]:
        """Every variable that may hold a token of any platform or git repository (redacted from everything a run
        writes)."""
        names = {name for platform in registry.names() for name in self.token_env(platform)}
        return names | {name for c in self.communities.communities for r in c.repositories
                        if isinstance(r, RepositoryRef) for name in r.token_env}

    def commits_via(self, platform: str) -> str:
        settings = self.communities.platforms.get(platform)  # type: ignore[call-overload]
        return settings.commits_via if settings else "api"

    def resolve_repository(self, entry: str | RepositoryRef) -> RepoTarget:
        from collector.gitclone import clone_url_without_credentials, normalise_clone_url

        if isinstance(entry, RepositoryRef):
            if entry.platform == "git":
                url = clone_url_without_credentials(normalise_text(entry.url or ""))
                key = normalise_clone_url(url)
                web = entry.web_url or (key if key.startswith("https://") else None)
                return RepoTarget("git", "", key, web, "git", url, tuple(entry.token_env))
            via = entry.commits_via or self.commits_via(entry.platform)
            clone = clone_url_without_credentials(normalise_text(entry.clone_url)) if entry.clone_url else None
            return RepoTarget(entry.platform, api_root(entry.platform, entry.api_url or self.api_url(entry.platform)),
                              entry.path or "", entry.web_url, via, clone)
        entry = normalise_text(entry)
        platform, path = parse_web_url(entry)
        return RepoTarget(platform, self.api_url(platform), normalise_path(path), entry.rstrip("/"),
                          self.commits_via(platform))

    def resolve_organisation(self, entry: str | OrganisationEntry) -> OrgTarget:
        if isinstance(entry, str):
            entry = OrganisationEntry(url=entry)
        if entry.url:
            url = normalise_text(entry.url)
            platform, path = parse_web_url(url, organisation=True)
            api_url, web = self.api_url(platform), url.rstrip("/")
        else:
            platform, path = entry.platform, normalise_path(entry.path or "")
            api_url, web = api_root(platform, entry.api_url or self.api_url(platform)), None
        return OrgTarget(platform, api_url, path, tuple(entry.include), tuple(entry.exclude),
                         entry.archived, entry.forks, web)


def parse_web_url(url: str, organisation: bool = False) -> tuple[str, str]:
    """Map a web URL to (platform, path) by the declared web hosts and URL parsers (collector.registry).
    Raises ValueError with the fix when the host or shape is unknown."""
    return registry.parse_web_url(url, organisation)


def _web_hosts_text() -> str:
    """The declared web hosts, for a fix text ("github.com, gitee.com, ...")."""
    return ", ".join(registry.web_hosts())


def _validate_communities(source: YamlSource, problems: list[Problem]) -> CommunitiesFile | None:
    """Validate community by community, so one bad entry does not hide the semantic problems of the others."""
    data = source.data
    if not isinstance(data, dict):
        problems.append(source.problem((), "the file must be a mapping with platforms:, collection:, communities:",
                                       "start from the shipped config/communities.yaml"))
        return None
    items = data.get("communities") or []
    if not isinstance(items, list):
        problems.append(source.problem(("communities",), "communities must be a list", "write one '- slug: ...' each"))
        items = []
    top = validate_source(source, CommunitiesFile, problems, data={k: v for k, v in data.items() if k != "communities"})
    valid = []
    for i, item in enumerate(items):
        community = validate_source(source, CommunityEntry, problems, data=item, prefix=("communities", i))
        if community is not None:
            valid.append(community)
    if top is None:
        return None
    top.communities = valid
    return top


# --- semantic checks --------------------------------------------------------------------------------------------------


def _check_communities(cfg: CommunitiesFile, src: YamlSource, problems: list[Problem], env: dict[str, str]) -> None:
    """Semantic checks over the raw entries, so a schema error in one field does not hide them."""
    resolver = Config(Path("."), cfg, OrganisationsFile(), IdentitiesFile(), None)
    raw = src.data.get("communities") if isinstance(src.data, dict) else None
    seen_slugs: dict[str, int] = {}
    used_platforms: set[str] = set()
    for ci, community in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(community, dict):
            continue
        base = ("communities", ci)
        slug = community.get("slug")
        if isinstance(slug, str):
            if slug in seen_slugs:
                problems.append(src.problem(base + ("slug",), f"community slug {slug!r} is used twice "
                                            f"(also communities[{seen_slugs[slug]}])", "give each community its own slug"))
            seen_slugs.setdefault(slug, ci)
        seen_repos: dict[tuple, int] = {}
        repositories = community.get("repositories") or []
        for ri, entry in enumerate(repositories if isinstance(repositories, list) else []):
            try:
                target = resolver.resolve_repository(entry if isinstance(entry, str) else RepositoryRef(**entry))
            except ValueError as exc:
                if isinstance(entry, str):  # mapping errors were reported by the schema check
                    problems.append(src.problem(base + ("repositories", ri), str(exc),
                                                f"use a repository URL on {_web_hosts_text()}, or a mapping "
                                                "{platform, api_url, path}; organisations go under organisations:"))
                continue
            except TypeError:
                continue
            if _check_target_address(src, base + ("repositories", ri), entry, target, problems):
                continue
            used_platforms.add(target.platform)
            key = (target.platform, target.api_url, target.path.lower())
            if key in seen_repos:
                problems.append(src.problem(base + ("repositories", ri),
                                            f"repository {target.platform}:{target.path} appears twice in community "
                                            f"{slug!r} (also repositories[{seen_repos[key]}])",
                                            "remove the duplicate entry"))
            seen_repos.setdefault(key, ri)
        organisations = community.get("organisations") or []
        for oi, org in enumerate(organisations if isinstance(organisations, list) else []):
            try:
                target = resolver.resolve_organisation(org if isinstance(org, str) else OrganisationEntry(**org))
            except ValueError as exc:
                if isinstance(org, str):
                    problems.append(src.problem(base + ("organisations", oi), str(exc),
                                                "use an organisation URL such as https://gitcode.com/openharmony"))
                continue
            except TypeError:
                continue
            _check_target_address(src, base + ("organisations", oi), org, target, problems, organisation=True)
            used_platforms.add(target.platform)
    _check_platform_api_urls(cfg, src, problems)
    for platform, settings in cfg.platforms.items():
        if settings.api_url and urlsplit(settings.api_url).scheme not in ("http", "https"):
            problems.append(src.problem(("platforms", platform, "api_url"), f"{settings.api_url!r} is not an http(s) URL",
                                        "write the API base, e.g. https://api.github.com"))
    for platform in sorted(used_platforms):
        names = resolver.token_env(platform)  # a platform declaring no token variables (git) needs none
        missing = [n for n in names if not env.get(n)]
        if names and len(missing) == len(names):
            problems.append(src.problem(("platforms", platform, "token_env"),
                                        f"no token for {platform}: environment variable(s) {', '.join(missing)} not set "
                                        "(collection runs anonymously, with a much lower rate limit)",
                                        f"export {missing[0]}=<token> before running mtx collect", "warning"))


def _check_target_address(src: YamlSource, key: tuple, entry: Any, target: RepoTarget | OrgTarget,
                          problems: list[Problem], organisation: bool = False) -> bool:
    """A repository or organisation path the platform cannot have, or an unusable API URL, is refused here, naming
    the line: the collector would refuse it too, but a configuration error is never first seen in the nightly job.
    Returns whether a problem was added."""
    found = False
    if isinstance(entry, dict) and "path" in entry:
        key = key + ("path",)
    problem = path_problem(target.platform, target.path, organisation=organisation)
    if problem:
        what = "organisation" if organisation else "repository"
        problems.append(src.problem(key, f"{what} path {target.path!r} is not allowed: {problem}",
                                    "write it as shown on the platform: owner/name (GitLab: group/subgroup/name), "
                                    "letters, digits, '.', '-' and '_' only"))
        found = True
    if isinstance(entry, dict) and entry.get("api_url"):
        problem = api_url_problem(target.platform, entry["api_url"])
        if problem:
            problems.append(src.problem(key[:-1] + ("api_url",) if key[-1] == "path" else key, problem,
                                        "write the API base, e.g. https://HOST/api/v4 for GitLab"))
            found = True
    return found


def _check_platform_api_urls(cfg: CommunitiesFile, src: YamlSource, problems: list[Problem]) -> None:
    """An api_url the platform's declaration refuses (GitLab: the server or ``/api/v4``, not another version)."""
    for platform, settings in cfg.platforms.items():
        if settings.api_url and urlsplit(settings.api_url).scheme in ("http", "https"):
            problem = api_url_problem(platform, settings.api_url)
            if problem:
                suffix = registry.get(platform).api_suffix
                problems.append(src.problem(("platforms", platform, "api_url"), problem,
                                            f"write the server, e.g. https://HOST, or its {suffix} root" if suffix
                                            else "write the API base, e.g. https://HOST/api"))


def url_has_credentials(text: object) -> bool:
    """True for a URL carrying a user name or password (https://user:token@host/...); an ssh URL's login
    (ssh://git@host/...) is not a credential, its password is."""
    if not isinstance(text, str) or "@" not in text or "://" not in text:
        return False
    try:
        parts = urlsplit(text.strip())
        if parts.scheme.lower() == "ssh":
            return parts.password is not None
        return "@" in parts.netloc
    except ValueError:
        return False


redact_credentials = redact_text  # messages may quote a configured URL (common.redaction, the one implementation)


def _check_url_credentials(src: YamlSource, problems: list[Problem]) -> None:
    """Every URL anywhere in the file: no user name or password (they would be stored, logged and shown)."""
    def walk(value: Any, path: tuple) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, path + (i,))
        elif url_has_credentials(value):
            problems.append(src.problem(path, f"URL 含用户名或密码 / the URL carries a user name or password: "
                                        f"{redact_url(value)}",
                                        "remove 'user:token@' from the URL and put the token in the environment "
                                        "variable named by platforms.<platform>.token_env (e.g. export "
                                        "GITHUB_TOKEN=...); nothing in a file may hold a credential"))

    walk(src.data, ())


def _check_organisations(cfg: OrganisationsFile, src: YamlSource, problems: list[Problem]) -> None:
    free = {d.lower() for d in cfg.free_mail_domains}
    owner: dict[str, str] = {}
    names: set[str] = set()
    for oi, org in enumerate(cfg.organisations):
        for label, name in [("name", org.name)] + [(("aliases", ai), a) for ai, a in enumerate(org.aliases)]:
            if name in names:
                path = ("organisations", oi) + ((label,) if isinstance(label, str) else label)
                problems.append(src.problem(path, f"organisation name {name!r} is used twice",
                                            "merge the two entries (an alias names the same organisation)"))
            names.add(name)
        for di, domain in enumerate(org.domains):
            if domain in free:
                problems.append(src.problem(("organisations", oi, "domains", di),
                                            f"{domain} is a free-mail domain, it cannot identify {org.name}",
                                            "remove it from the organisation or from free_mail_domains"))
            if domain in owner and owner[domain] != org.name:
                problems.append(src.problem(("organisations", oi, "domains", di),
                                            f"domain {domain} is claimed by {owner[domain]!r} and {org.name!r}",
                                            "keep it in one organisation only"))
            owner.setdefault(domain, org.name)


def _check_identities(cfg: IdentitiesFile, src: YamlSource, orgs: OrganisationsFile | None,
                      problems: list[Problem]) -> None:
    from tracker.people.rules import parse_ref  # imported here: the people package imports this module

    for pi, pattern in enumerate(cfg.bots.patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(src.problem(("bots", "patterns", pi), f"bad regular expression {pattern!r}: {exc}",
                                        "fix the pattern (escape [ ] with \\)"))
    known_orgs = {n for o in orgs.organisations for n in [o.name, *o.aliases]} if orgs else set()
    owner: dict[str, int] = {}
    for pi, person in enumerate(cfg.people):
        refs = [(("people", pi, "emails", ei), email) for ei, email in enumerate(person.emails)]
        refs += [(("people", pi, "accounts", ai), f"{a.platform}:{a.login}") for ai, a in enumerate(person.accounts)]
        for path, ref in refs:
            try:
                key = parse_ref(ref)
            except ValueError as exc:
                problems.append(src.problem(path, str(exc), "list real addresses and accounts only"))
                continue
            if key in owner and owner[key] != pi:
                problems.append(src.problem(path, f"{ref} is listed for two people (people[{owner[key]}])",
                                            "an address or account belongs to one person: merge the entries "
                                            "or remove it"))
            owner.setdefault(key, pi)
        for ai, aff in enumerate(person.affiliations):
            if orgs is not None and aff.organisation not in known_orgs:
                problems.append(src.problem(("people", pi, "affiliations", ai, "organisation"),
                                            f"unknown organisation {aff.organisation!r}",
                                            "add it to organisations.yaml or correct the name"))
            if aff.start and aff.end and aff.end <= aff.start:
                problems.append(src.problem(("people", pi, "affiliations", ai, "end"), "end is not after start",
                                            "swap or correct the dates"))
    for di, group in enumerate(cfg.distinct):
        if len(group) < 2:
            problems.append(src.problem(("distinct", di), "a distinct entry needs two or more addresses/accounts",
                                        "write [a@x.com, github:b]"))
        keys = []
        for gi, ref in enumerate(group):
            try:
                keys.append(parse_ref(ref))
            except ValueError as exc:
                problems.append(src.problem(("distinct", di, gi), str(exc), "list real addresses and accounts only"))
        people = {owner[k] for k in keys if k in owner}
        if len(keys) >= 2 and len(people) == 1 and sum(1 for k in keys if k in owner) >= 2:
            problems.append(src.problem(("distinct", di), f"people[{people.pop()}] joins what this entry keeps "
                                        "apart", "remove it from people: or from distinct:"))


def _check_models(directory: Path, problems: list[Problem]) -> list[Path]:
    files = sorted((directory / "models").glob("*.yaml")) if (directory / "models").is_dir() else []
    for path in files:
        problems.extend(validate_model_file(path))
    return files


# --- entry points -----------------------------------------------------------------------------------------------------


def check_config(directory: str | Path, env: dict[str, str] | None = None) -> tuple[Config | None, list[Problem]]:
    """Validate every file; returns the configuration (None when any error) and all problems found."""
    directory = Path(directory)
    env = dict(os.environ) if env is None else env
    problems: list[Problem] = []
    if not directory.is_dir():
        return None, [Problem(str(directory), "", "configuration directory not found",
                              "pass --config DIR or set MTX_CONFIG, or run from the project directory")]
    sources = {name: read_yaml(directory, f"{name}.yaml", problems, required=(name == "communities"))
               for name in ("communities", "organisations", "identities", "awards", "rounds")}
    communities = _validate_communities(sources["communities"], problems) if sources["communities"] else None
    organisations = (validate_source(sources["organisations"], OrganisationsFile, problems)
                     if sources["organisations"] else OrganisationsFile())
    identities = validate_source(sources["identities"], IdentitiesFile, problems) if sources["identities"] else IdentitiesFile()
    awards = validate_source(sources["awards"], AwardRuleSet, problems) if sources["awards"] else None
    if sources["rounds"]:
        from tracker.rounds.checklist import RoundsFile

        validate_source(sources["rounds"], RoundsFile, problems)

    for source in sources.values():
        if source is not None:
            _check_url_credentials(source, problems)
    if communities is not None:
        _check_communities(communities, sources["communities"], problems, env)
    if organisations is not None and sources["organisations"]:
        _check_organisations(organisations, sources["organisations"], problems)
    if identities is not None and sources["identities"]:
        _check_identities(identities, sources["identities"], organisations, problems)
    if awards is not None:
        check_award_rules(awards, sources["awards"], problems)
    model_files = _check_models(directory, problems)
    problems = [Problem(p.file, p.key, redact_credentials(p.message), p.fix, p.severity, p.line) if "@" in p.message
                else p for p in problems]  # a message quoting a configured URL never shows its credentials

    if any(p.severity == "error" for p in problems) or communities is None:
        return None, problems
    return Config(directory, communities, organisations or OrganisationsFile(), identities or IdentitiesFile(),
                  awards, model_files), problems


def load_config(directory: str | Path, env: dict[str, str] | None = None) -> Config:
    config, problems = check_config(directory, env)
    if config is None:
        raise ConfigError(problems)
    return config



class ConfigFileError(ValueError):
    """A configuration file that cannot be read for one setting; the message names the file, the key and the fix."""


def stale_after_days(path: str | Path) -> int:
    """`collection.stale_after_days` of communities.yaml at ``path`` (the default when the file is absent)."""
    from pydantic import ValidationError

    from tracker.yamlsource import load_yaml

    path = Path(path)
    if not path.exists():
        return CollectionSettings().stale_after_days
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))[0] or {}
    except Exception as exc:
        raise ConfigFileError(f"{path}: 无法读取 / cannot read it ({exc}); run `mtx config check` for the details") \
            from None
    collection = data.get("collection") if isinstance(data, dict) else None
    try:
        return CollectionSettings.model_validate(collection or {}).stale_after_days
    except ValidationError as exc:
        raise ConfigFileError(f"{path}: collection: {exc.errors()[0]['msg']}. Fix: collection.stale_after_days is a "
                              "whole number of days, 0-365 (default 3); `mtx config check` shows every problem") \
            from None
