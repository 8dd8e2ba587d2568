"""The linkage part of the demo (the listener of `hooks.demo_built`, last: after the alerts' cases and the
declarations are in): the operator's entity-resolution run over the operation's parties and declared parties,
so that Networks and the cases linked to declarations are there on first login."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dragonnet.hooks import DemoBuilt, hookimpl


@hookimpl(trylast=True)
def demo_built(session: Session, demo: DemoBuilt) -> str | None:
    if demo.data_dir is None:
        return None
    from dragonnet.linkage import service
    from dragonnet.linkage.record_cache import cache_dir

    demo.progress(0, 1, "entity resolution (Splink)")
    run = service.run_resolution(session, operation_id=demo.operation_id, record_cache=cache_dir(demo.data_dir))
    demo.progress(1, 1, "entity resolution (Splink)")
    return f"entity resolution: {run.records} parties, {run.links} links, {run.clusters} entities"
