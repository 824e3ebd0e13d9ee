"""common.redaction: the one implementation of masking tokens and credentials."""
from __future__ import annotations

import logging

from common.redaction import RedactingLogFilter, SecretScrubber, redact_text, redact_url


def test_redact_url_masks_credentials_and_token_parameters():
    assert redact_url("https://user:tok3n@gitee.com/api/v5/repos/a/b?access_token=SECRET&page=2") == \
        "https://***@gitee.com/api/v5/repos/a/b?access_token=***&page=2"
    assert redact_url("https://gitlab.example.com/api/v4/projects?private_token=x1&per_page=100") == \
        "https://gitlab.example.com/api/v4/projects?private_token=***&per_page=100"
    assert redact_url("https://github.com/owner/name") == "https://github.com/owner/name"


def test_redact_text_masks_every_url_and_token_in_a_message():
    message = "cannot reach https://bob:pa55@git.example.com/x.git (see http://h/p?access_token=abc123;)"
    assert redact_text(message) == "cannot reach https://***@git.example.com/x.git (see http://h/p?access_token=***;)"
    assert redact_text("user@example.com wrote") == "user@example.com wrote"  # an e-mail address is not a credential


def test_secret_scrubber_replaces_known_values_longest_first_and_ignores_tiny_ones():
    scrub = SecretScrubber(["ghp_abcdef", "ghp_abcdef123", "ab", None, ""])
    assert scrub("token ghp_abcdef123 and ghp_abcdef, ab") == "token *** and ***, ab"


def test_log_filter_masks_client_library_records():
    record = logging.LogRecord("httpcore", logging.DEBUG, __file__, 1, "link: <%s>", ("https://h/x?access_token=t0k",),
                               None)
    assert RedactingLogFilter().filter(record) is True
    assert record.getMessage() == "link: <https://h/x?access_token=***>"
