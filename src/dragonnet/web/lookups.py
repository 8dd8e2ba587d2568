"""Small read queries the service layer does not offer yet (candidates for dragonnet.operation.service)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.policy.access import Actor
from dragonnet.storage.models import Operation


def list_operations(session: Session, actor: Actor) -> list[Operation]:
    """The operations `actor` may open, oldest first.

    Today every logged-in user of the platform may open every operation's overview (its figures are
    filtered by the access policy); restricting this to participating agencies belongs in the service.
    """
    if not actor.is_authenticated:
        return []
    return list(session.execute(select(Operation).order_by(Operation.id)).scalars())
