"""streaq's retry lines: one line with the cause, no traceback; other lines untouched."""

from __future__ import annotations

import logging

import pytest
from streaq import logger as streaq_logger
from streaq.types import StreaqRetry

from mus.core.broker_preflight import BrokerUnavailableError
from mus.core.streaq_broker import quiet_streaq_retries


def log_a_retry_of_a_job_the_broker_cut_off() -> None:
    """What streaq does when mus's job wrapper turns a lost broker into a retry."""
    try:
        try:
            raise BrokerUnavailableError("cannot take the write lock: command not allowed")
        except BrokerUnavailableError as exc:
            raise StreaqRetry("broker away", delay=2) from exc
    except StreaqRetry:
        streaq_logger.exception("Retrying task %s!", "abc123")


def test_a_retry_is_one_line_with_its_cause_and_a_failure_keeps_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    quiet_streaq_retries(streaq_logger)
    quiet_streaq_retries(streaq_logger)  # installed once however often it is asked
    with caplog.at_level(logging.INFO, logger="streaq"):
        log_a_retry_of_a_job_the_broker_cut_off()
        try:
            raise ValueError("a real bug")
        except ValueError:
            streaq_logger.exception("Task %s failed!", "def456")
    retry, failure = caplog.records
    assert retry.getMessage() == (
        "Retrying task abc123! (BrokerUnavailableError: cannot take the write lock: "
        "command not allowed)"
    )
    assert retry.exc_info is None
    assert failure.exc_info is not None
    assert "Traceback" in caplog.text.split("Task def456 failed!")[1]
    assert "Traceback" not in caplog.text.split("Task def456 failed!")[0]
    assert (
        len([f for f in streaq_logger.filters if type(f).__name__ == "RetryWithoutTraceback"]) == 1
    )
