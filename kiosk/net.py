"""The kiosk's side of hallnet that is not the client itself."""

from __future__ import annotations

from hallnet import messages as m
from hallnet.outbox import Outbox
from kiosk.evaluator_logic import SEND_TYPE


def rated_jobs_in(outbox: Outbox) -> set[str]:
    """办件 whose rating is still waiting in the outbox (from this run or an earlier one): the
    evaluator must not ask for them again when the hall server re-publishes them."""
    jobs: set[str] = set()
    after = 0
    while True:
        rows = outbox.pending(after, 500)
        for n, _id, frame in rows:
            after = n
            try:
                env = m.decode(frame)
            except m.MalformedMessage:
                continue
            if env.type == SEND_TYPE and isinstance(env.body.get("job"), str):
                jobs.add(env.body["job"])
        if len(rows) < 500:
            return jobs
