"""Configuration: the YAML files in `config/`, validated with pydantic, with every problem reported at once.

Each problem names the file, the key path (and line), what is wrong and how to fix it. Schema errors come from pydantic;
semantic checks (unknown hosts, duplicates, unset token variables, contradictory award rules, unknown signals in a
model) run on top of a schema-valid file. Tokens never live in files: only the *names* of environment variables do.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from collector import registry
from collector.addresses import api_root, api_url_problem, normalise_path, normalise_text, path_problem

FocusField = Literal["automotive", "smart-terminal", "education", "other"]


def _declared_platform(value: str) -> str:
    """A platform name as the registry declares it (collector/platforms/); an alias becomes the name."""
    platform = registry.find(value) if isinstance(value, str) else None
    if platform is None:
        raise ValueError(registry.unknown_message(value))
    return platform.name


PlatformName = Annotated[str, AfterValidator(_declared_platform)]
ENV_VAR_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


# --- problems ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    message: str
    fix: str
    severity: Literal["error", "warning"] = "error"
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.message} (fix: {self.fix})"

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        label = "错误 error" if self.severity == "error" else "警告 warning"
        return f"{where}: {label} at {self.key or '(top level)'}: {self.message}\n    fix: {self.fix}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "key": self.key, "severity": self.severity,
                "message": self.message, "fix": self.fix}


class ConfigError(Exception):
    """Raised by load_config when any error-level problem exists; carries all of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"{len(errors)} configuration error(s):\n" + "\n".join(p.render() for p in errors))


# --- schema -----------------------------------------------------------------------------------------------------------


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PlatformSettings(Strict):
    api_url: str | None = None
    token_env: list[str] = Field(default_factory=list, description="names of environment variables holding tokens")

    @field_validator("token_env", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("token_env")
    @classmethod
    def _names_only(cls, value: list[str]) -> list[str]:
        for name in value:
            if not ENV_VAR_RE.match(name):
                raise ValueError(f"{name[:4]}… is not an environment variable name (A-Z, 0-9, _): "
                                 "put the token in an environment variable and write its name here, never the token")
        return value


class RepositoryRef(Strict):
    """A repository given as a mapping, for GitHub Enterprise, self-hosted GitLab or a test server."""

    platform: PlatformName
    api_url: str | None = None
    path: str
    web_url: str | None = None

    @field_validator("path")
    @classmethod
    def _path_has_owner(cls, value: str) -> str:
        value = normalise_path(value)  # NFKC, trimmed, zero-width characters removed: one spelling per path
        if value.count("/") < 1:
            raise ValueError("a repository path is owner/name (GitLab: group/subgroup/name)")
        return value


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


class Ceiling(Strict):
    amount: int = Field(gt=0, description="ceiling per enterprise, in yuan or as a number of products")
    unit: Literal["yuan", "products"] = "yuan"
    scope: Literal["policy_period", "calendar_year", "lifetime"] = "policy_period"


class DateWindow(Strict):
    start: dt.date | None = None
    end: dt.date | None = None


class Gates(Strict):
    registered_in_chongqing: bool = True


class ImportLimits(Strict):
    """Certificate import files beyond these are refused before they cost minutes and gigabytes."""

    max_file_mb: int = Field(50, gt=0, description="file size, MB")
    max_xlsx_uncompressed_mb: int = Field(200, gt=0, description="an XLSX's size once unzipped, MB (zip bombs)")
    max_rows: int = Field(200_000, gt=0, description="data rows")


class AwardRuleSet(Strict):
    """The certificate award rule set (policy item 10). Behaviour lives in tracker.ledger; this is its shape."""

    version: str = Field(description="rule-set version recorded on every award")
    name: str
    policy_period: DateWindow
    amount_per_product: int = Field(gt=0, description="yuan")
    amount_mode: Literal["fixed", "up_to"] = "fixed"
    ceiling: Ceiling
    last_award: Literal["partial", "whole_only"] = "partial"
    first_time_only: bool = True
    exclude_derived: bool = True
    require_first_version: bool = True
    accepted_issuers: list[str] = Field(default_factory=list)
    accepted_cert_types: list[str] = Field(default_factory=list)
    product_types: list[str] = Field(default_factory=list)
    min_os_version: str | None = None
    pass_date_window: DateWindow = Field(default_factory=DateWindow)
    gates: Gates = Field(default_factory=Gates)
    limits: ImportLimits = Field(default_factory=ImportLimits, description="import file limits (not award rules)")


# --- the loaded configuration -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepoTarget:
    """A repository resolved from the config: platform, API base and path."""

    platform: str
    api_url: str
    path: str
    web_url: str | None


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
    model_files: list[Path] = field(default_factory=list)

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
        """Every variable that may hold a token of any platform (redacted from everything a run writes)."""
        return {name for platform in registry.names() for name in self.token_env(platform)}

    def resolve_repository(self, entry: str | RepositoryRef) -> RepoTarget:
        if isinstance(entry, RepositoryRef):
            return RepoTarget(entry.platform, api_root(entry.platform, entry.api_url or self.api_url(entry.platform)),
                              entry.path, entry.web_url)
        entry = normalise_text(entry)
        platform, path = parse_web_url(entry)
        return RepoTarget(platform, self.api_url(platform), normalise_path(path), entry.rstrip("/"))

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


# --- YAML with line numbers -------------------------------------------------------------------------------------------

YAML_MAX_NODES = 200_000  # nodes once aliases are expanded: far above any real configuration, far below a YAML bomb


class YamlTooLarge(ValueError):
    """A YAML document whose aliases expand past YAML_MAX_NODES, or refer to themselves (a 'billion laughs' file)."""


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """Nodes in the document with every alias expanded, counting each distinct node once (linear time)."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise YamlTooLarge("别名引用了自身 / an alias refers to itself (a recursive anchor)")
        in_progress.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        in_progress.discard(key)
        sizes[key] = total = min(total, limit + 1)  # enough to know it is over; keeps the numbers small
        return total

    return size(root)


def load_yaml(text: str, max_nodes: int = YAML_MAX_NODES) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document with the safe loader, refusing alias bombs before anything walks the data.

    Returns the data and the composed node tree (for line numbers). Raises yaml.YAMLError or YamlTooLarge.
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        try:
            expanded = _expanded_size(root, max_nodes)
        except RecursionError:
            raise YamlTooLarge("嵌套过深 / the YAML is nested too deeply") from None
        if expanded > max_nodes:
            raise YamlTooLarge(f"YAML 展开别名后超过 {max_nodes:,} 个节点 / the YAML expands to more than "
                               f"{max_nodes:,} nodes once its aliases (*name) are expanded")
        return loader.construct_document(root), root
    finally:
        loader.dispose()


def _line_index(root: yaml.Node | None) -> dict[tuple, int]:
    """Key path (tuple of keys and list indexes) -> 1-based line, from the composed YAML node tree.

    Each node is walked once: a node reached again through an alias gets its path's line, not a second walk.
    """
    index: dict[tuple, int] = {}
    seen: set[int] = set()

    def walk(node, path: tuple) -> None:
        index[path] = node.start_mark.line + 1
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value
                index[path + (key,)] = key_node.start_mark.line + 1
                walk(value_node, path + (key,))
                index[path + (key,)] = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, path + (i,))

    if root is not None:
        walk(root, ())
    return index


def _line_for(index: dict[tuple, int], path: tuple) -> int | None:
    path = tuple(path)
    while path:
        if path in index:
            return index[path]
        path = path[:-1]
    return index.get(())


def _key(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class _Source:
    name: str  # as shown to the user, e.g. config/communities.yaml
    data: Any
    lines: dict[tuple, int]

    def problem(self, path: tuple, message: str, fix: str, severity: str = "error") -> Problem:
        return Problem(self.name, _key(path), message, fix, severity, _line_for(self.lines, path))  # type: ignore[arg-type]


def _read_yaml(directory: Path, relative: str, problems: list[Problem], required: bool) -> _Source | None:
    path = directory / relative
    shown = str(path)
    if not path.exists():
        if required:
            problems.append(Problem(shown, "", "file not found",
                                    f"create {relative} in the configuration directory (see config/ in the project)"))
        return None
    text = path.read_text(encoding="utf-8")
    try:
        data, root = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(shown, "", f"not valid YAML: {getattr(exc, 'problem', exc)}",
                                "fix the YAML syntax at that line (indentation, a missing ':' or quote)",
                                line=mark.line + 1 if mark else None))
        return None
    except YamlTooLarge as exc:
        problems.append(Problem(shown, "", f"文件被拒绝 / file refused: {exc}",
                                "write the entries out instead of anchors (&name) and aliases (*name) that expand into "
                                "each other"))
        return None
    return _Source(shown, data if data is not None else {}, _line_index(root))


def _fix_for(error: dict) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "remove this key or correct its spelling"
    if kind == "missing":
        return "add this key"
    if kind == "literal_error":
        return f"use one of: {error.get('ctx', {}).get('expected', '')}"
    if kind.startswith("date"):
        return "write the date as YYYY-MM-DD"
    if kind.startswith("int") or kind.startswith("float"):
        return "write a number"
    if kind.startswith("bool"):
        return "write true or false"
    return "correct the value as described"


def _validate(source: _Source, model: type[BaseModel], problems: list[Problem], data: Any = None,
              prefix: tuple = ()):
    try:
        return model.model_validate(source.data if data is None else data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            # pydantic adds the union member tag (e.g. 'str' / 'RepositoryRef') to the location: keep the data path
            clean = tuple(p for p in loc if not (isinstance(p, str) and (p in ("str",) or p[:1].isupper())))
            problems.append(source.problem(prefix + clean, error["msg"], _fix_for(error)))
        return None


def _validate_communities(source: _Source, problems: list[Problem]) -> CommunitiesFile | None:
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
    top = _validate(source, CommunitiesFile, problems, data={k: v for k, v in data.items() if k != "communities"})
    valid = []
    for i, item in enumerate(items):
        community = _validate(source, CommunityEntry, problems, data=item, prefix=("communities", i))
        if community is not None:
            valid.append(community)
    if top is None:
        return None
    top.communities = valid
    return top


# --- semantic checks --------------------------------------------------------------------------------------------------


def _check_communities(cfg: CommunitiesFile, src: _Source, problems: list[Problem], env: dict[str, str]) -> None:
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


def _check_target_address(src: _Source, key: tuple, entry: Any, target: RepoTarget | OrgTarget,
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


def _check_platform_api_urls(cfg: CommunitiesFile, src: _Source, problems: list[Problem]) -> None:
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
    """True for a URL carrying a user name or password (https://user:token@host/...)."""
    if not isinstance(text, str) or "@" not in text or "://" not in text:
        return False
    try:
        return "@" in urlsplit(text.strip()).netloc
    except ValueError:
        return False


_CREDENTIALS_IN_TEXT = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s'\"]+@")


def redact_credentials(text: str) -> str:
    """Any URL in `text` with its user name and password replaced by *** (messages may quote a configured URL)."""
    return _CREDENTIALS_IN_TEXT.sub(r"\g<scheme>***@", text)


def redact_url(text: str) -> str:
    """The URL with its user name and password replaced by ***, for messages."""
    parts = urlsplit(text.strip())
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


def _check_url_credentials(src: _Source, problems: list[Problem]) -> None:
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


def _check_organisations(cfg: OrganisationsFile, src: _Source, problems: list[Problem]) -> None:
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


def _check_identities(cfg: IdentitiesFile, src: _Source, orgs: OrganisationsFile | None,
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


def check_award_rules(rules: AwardRuleSet, src: _Source, problems: list[Problem], prefix: tuple = ()) -> None:
    """Rules that contradict each other: no award could ever be paid, or windows that cannot hold."""
    c = rules.ceiling
    if c.unit == "yuan" and rules.amount_per_product > c.amount and rules.last_award == "whole_only":
        problems.append(src.problem(prefix + ("amount_per_product",),
                                    f"{rules.amount_per_product} per product exceeds the ceiling of {c.amount} yuan "
                                    "with last_award: whole_only, so no award can ever be made",
                                    "lower amount_per_product, raise ceiling.amount or use last_award: partial"))
    if c.unit == "products" and rules.last_award == "whole_only":
        problems.append(src.problem(prefix + ("last_award",),
                                    "last_award only matters for a money ceiling; a product-count ceiling is whole",
                                    "remove last_award or use ceiling.unit: yuan", "warning"))
    for key, window in (("policy_period", rules.policy_period), ("pass_date_window", rules.pass_date_window)):
        if window.start and window.end and window.end < window.start:
            problems.append(src.problem(prefix + (key, "end"), f"{key} ends ({window.end}) before it starts "
                                        f"({window.start})", "correct the dates"))
    pw, pp = rules.pass_date_window, rules.policy_period
    if pw.start and pp.end and pw.start > pp.end or pw.end and pp.start and pw.end < pp.start:
        problems.append(src.problem(prefix + ("pass_date_window",), "pass_date_window lies outside the policy period",
                                    "make the window overlap policy_period"))
    if c.scope == "calendar_year" and not (pp.start and pp.end):
        problems.append(src.problem(prefix + ("ceiling", "scope"), "a per-year ceiling needs a policy period",
                                    "set policy_period.start and .end"))
    if rules.min_os_version and not re.match(r"^\d+(\.\d+){0,3}$", rules.min_os_version):
        problems.append(src.problem(prefix + ("min_os_version",), f"{rules.min_os_version!r} is not a version",
                                    "write it like 4.1 or 5.0.0"))
    if rules.product_types:
        from tracker.models import PRODUCT_TYPES

        for i, product_type in enumerate(rules.product_types):
            if product_type not in PRODUCT_TYPES:
                problems.append(src.problem(prefix + ("product_types", i), f"unknown product type {product_type!r}",
                                            f"use one of {', '.join(PRODUCT_TYPES)}"))


def _check_models(directory: Path, problems: list[Problem]) -> list[Path]:
    files = sorted((directory / "models").glob("*.yaml")) if (directory / "models").is_dir() else []
    from tracker.scoring import validate_model_file  # imported here: scoring imports this module

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
    sources = {name: _read_yaml(directory, f"{name}.yaml", problems, required=(name == "communities"))
               for name in ("communities", "organisations", "identities", "awards")}
    communities = _validate_communities(sources["communities"], problems) if sources["communities"] else None
    organisations = (_validate(sources["organisations"], OrganisationsFile, problems)
                     if sources["organisations"] else OrganisationsFile())
    identities = _validate(sources["identities"], IdentitiesFile, problems) if sources["identities"] else IdentitiesFile()
    awards = _validate(sources["awards"], AwardRuleSet, problems) if sources["awards"] else None

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

