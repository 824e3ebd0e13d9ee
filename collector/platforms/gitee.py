"""Gitee and GitCode/AtomGit: one REST dialect (``collector.gitee``), two platforms that differ in data only."""
from collector.platforms import Platform

GITEE = Platform(
    name="gitee",
    label_zh="Gitee",
    label_en="Gitee",
    default_api_url="https://gitee.com/api/v5",
    token_env=("GITEE_TOKEN",),
    credential_hosts=("https://gitee.com:443",),
    web_hosts=("gitee.com",),
    collector="collector.gitee:GiteeCollector",
    noreply_forms=(r"^(?:(?P<id>\d+)\+)?(?P<login>[^@+\s]+)@user\.noreply\.gitee\.com$",),
    noreply_domains=("user.noreply.gitee.com",),
    anonymous_addresses=("noreply@gitee.com",),
    clone_host="https://gitee.com",  # the token is the password; the user name is not checked (unverified)
    clone_user="oauth2",
)

GITCODE = Platform(
    name="gitcode",
    label_zh="GitCode/AtomGit",
    label_en="GitCode/AtomGit",
    default_api_url="https://api.gitcode.com/api/v5",
    token_env=("GITCODE_TOKEN",),
    credential_hosts=("https://api.gitcode.com:443",),
    web_hosts=("gitcode.com", "gitcode.net", "atomgit.com"),  # AtomGit is GitCode's host
    collector="collector.gitee:GitCodeCollector",
    aliases=("atomgit",),
    noreply_forms=(r"^(?:(?P<id>\d+)\+)?(?P<login>[^@+\s]+)@user\.noreply\.gitcode\.com$",
                   r"^(?:[^@.\s]+\.)?(?P<login>[^@.\s][^@\s]*)@noreply\.gitcode\.com$",
                   r"^(?P<login>[^@\s]+)@users\.noreply\.atomgit\.com$"),
    noreply_domains=("user.noreply.gitcode.com", "noreply.gitcode.com", "users.noreply.atomgit.com"),
    anonymous_addresses=("noreply@gitcode.com",),
    clone_host="https://gitcode.com",  # the token is the password (unverified for the user name)
    clone_user="oauth2",
)

PLATFORMS = (GITEE, GITCODE)
