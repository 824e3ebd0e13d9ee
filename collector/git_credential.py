"""git credential helper for mtx (run by git, never imported): answers ``get`` for one origin only.

The job's git runner configures it through ``GIT_CONFIG_COUNT`` variables for the origin a token may reach and puts
the origin, user name and token in this process's environment (``MTX_GIT_CREDENTIAL_*``), so the token is never on
a command line, in a config file or in a URL. Any other host (a redirect elsewhere, another server) gets nothing.
"""
import os
import sys


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[-1] != "get":
        return 0  # store / erase: we keep nothing
    wanted = os.environ.get("MTX_GIT_CREDENTIAL_ORIGIN", "")
    asked = {}
    for line in sys.stdin.read().splitlines():
        key, _, value = line.partition("=")
        asked[key] = value
    scheme = asked.get("protocol", "")
    host = asked.get("host", "")
    if ":" not in host.rsplit("]", 1)[-1]:
        host += ":" + ("443" if scheme == "https" else "80" if scheme == "http" else "")
    if not wanted or f"{scheme}://{host.lower()}" != wanted:
        return 0
    user = os.environ.get("MTX_GIT_CREDENTIAL_USER", "")
    secret = os.environ.get("MTX_GIT_CREDENTIAL_SECRET", "")
    if not secret:
        return 0
    sys.stdout.write(f"username={user}\npassword={secret}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
