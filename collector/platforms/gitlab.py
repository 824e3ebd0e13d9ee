"""GitLab (gitlab.com or self-hosted; group/subgroup/project paths): the collector is ``collector.gitlab``."""
import urllib.parse

from collector.platforms import Platform


def group_path(url: str, path: str, organisation: bool) -> str:
    """``group/sub/project`` from ``/group/sub/project[.git][/-/tree/...]``; an organisation is a group path."""
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    if "/-/" in path:
        path = path.split("/-/")[0]
    segments = [s for s in path.split("/") if s]
    if organisation:
        if not segments:
            host = urllib.parse.urlsplit(url).hostname
            raise ValueError(f"{url!r} is not an organisation URL (expected https://{host}/ORG)")
    elif len(segments) < 2:
        raise ValueError(f"{url!r} names an organisation, not a repository")
    return "/".join(segments)


PLATFORM = Platform(
    name="gitlab",
    label_zh="GitLab",
    label_en="GitLab",
    default_api_url="https://gitlab.com/api/v4",
    token_env=("GITLAB_TOKEN",),
    credential_hosts=("https://gitlab.com:443",),
    web_hosts=("gitlab.com",),
    collector="collector.gitlab:GitLabCollector",
    web_path=group_path,
    nested_paths=True,
    api_suffix="/api/v4",
    noreply_forms=(r"^(?P<id>\d+)-(?P<login>[^@\s]+)@users\.noreply\.gitlab\.com$",),
    noreply_domains=("users.noreply.gitlab.com",),
    clone_host="https://gitlab.com",
    clone_user="oauth2",
    anonymous_addresses=("noreply@gitlab.com",),
)
