"""GitHub (github.com, or GitHub Enterprise at https://HOST/api/v3): the collector is ``collector.github``."""
from collector.platforms import Platform

PLATFORM = Platform(
    name="github",
    label_zh="GitHub",
    label_en="GitHub",
    default_api_url="https://api.github.com",
    token_env=("GITHUB_TOKEN",),
    credential_hosts=("https://api.github.com:443",),
    web_hosts=("github.com", "www.github.com"),
    collector="collector.github:GitHubCollector",
    noreply_forms=(r"^(?:(?P<id>\d+)\+)?(?P<login>[^@+\s]+)@users\.noreply\.github\.com$",),
    noreply_domains=("users.noreply.github.com",),
    clone_host="https://github.com",
    clone_user="x-access-token",
    anonymous_addresses=("noreply@github.com",),
)
