"""Which backend the api enqueues on: the one place that names it (streaq)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from mus.application.job_queue import JobQueue
from mus.core.config import Settings
from mus.core.streaq_connection import open_streaq_connection

JobQueueOpener = Callable[[Settings], AbstractAsyncContextManager[JobQueue]]

open_job_queue: JobQueueOpener = open_streaq_connection
"""One broker connection for the whole api lifetime, kept open by a task of its own."""
