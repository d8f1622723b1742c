"""Retrying a vendor call answered 429 (rate limited) or 5xx, with backoff honouring Retry-After.

Every connector wraps each API request in `call_with_retries`, handing it a `classify`
function that reads the vendor SDK's exception: the HTTP status and, when the vendor sent
one, the Retry-After delay in seconds. Other errors (401, 404, a mapping bug) are not retried.

Example::

    data = call_with_retries(lambda: client.list(after=token), classify=stripe_status,
                             policy=RetryPolicy.of(source), what="stripe customers")
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from quarterdeck.sources.config import Source

T = TypeVar("T")
log = logging.getLogger(__name__)
MAX_WAIT_SECONDS = 60.0
# (HTTP status or None when the error is not an HTTP answer, Retry-After seconds or None)
Classification = tuple[int | None, float | None]


def retryable(status: int | None) -> bool:
    return status == 429 or (status is not None and 500 <= status < 600)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 6
    base_seconds: float = 1.0
    max_seconds: float = MAX_WAIT_SECONDS

    @classmethod
    def of(cls, source: Source) -> RetryPolicy:
        return cls(source.max_retries, source.retry_base_seconds)

    def wait(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number `attempt` (1-based): full-jitter exponential
        backoff, or the vendor's Retry-After when it asks for longer."""
        backoff = random.uniform(0, min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1)))
        if retry_after is not None:
            backoff = max(backoff, min(retry_after, self.max_seconds))
        return backoff


def pause(seconds: float) -> None:
    """How a retry waits: the one place tests replace to count the waits."""
    time.sleep(seconds)


def call_with_retries(call: Callable[[], T], *, classify: Callable[[BaseException],
                      Classification], policy: RetryPolicy, what: str,
                      sleep: Callable[[float], None] | None = None) -> T:
    """`call()`, retried on 429/5xx answers up to `policy.max_retries` times."""

    def should_retry(state: tenacity.RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        return exc is not None and retryable(classify(exc)[0])

    def wait(state: tenacity.RetryCallState) -> float:
        if state.attempt_number > policy.max_retries:
            return 0.0  # tenacity asks before it stops: no retry follows
        exc = state.outcome.exception()
        status, retry_after = classify(exc)
        seconds = policy.wait(state.attempt_number, retry_after)
        log.warning("%s: HTTP %s, retry %d of %d in %.1f s", what, status, state.attempt_number,
                    policy.max_retries, seconds)
        return seconds

    retrying = tenacity.Retrying(
        retry=should_retry, wait=wait, stop=tenacity.stop_after_attempt(policy.max_retries + 1),
        reraise=True, sleep=sleep or (lambda seconds: pause(seconds)))
    return retrying(call)
