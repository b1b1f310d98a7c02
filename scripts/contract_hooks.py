"""Schemathesis hooks for scripts/contract-test (issue #10, SPEC §9 invariant 11).

Every change to the registry is a log entry, so "a rejected request left no trace" is "the log has
as many entries after it as before". `before_call` reads the log size from GET /status; the check
`rejected_requests_change_nothing` reads it again after any refused request that could write
(every method but GET/HEAD/OPTIONS) and fails if it moved. The contract test runs one worker, so no
other request can move the log in between.
"""

import json
import os
import threading
import urllib.request

import schemathesis

_STATUS = os.environ["FURROW_STATUS_URL"]
_before = threading.local()


def _log_size():
    with urllib.request.urlopen(_STATUS, timeout=10) as response:
        return json.load(response)["log_size"]


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    _before.size = _log_size() if case.method.upper() not in ("GET", "HEAD", "OPTIONS") else None


@schemathesis.check
def rejected_requests_change_nothing(ctx, response, case):
    before = getattr(_before, "size", None)
    if before is None or response.status_code < 400:
        return None
    after = _log_size()
    if after != before:
        raise AssertionError(
            f"{case.method} {case.formatted_path} was refused with {response.status_code} "
            f"but the log grew from {before} to {after} entries"
        )
    return None
