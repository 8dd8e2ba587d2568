"""The targeting part of the demo (the listener of `hooks.demo_built`): the owning agencies' analysts store
their risk profiles, each agency's declaration history is imported, a model is trained per agency, and today's
declarations are ranked into one targeting list per office; all through the targeting services."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.hooks import DemoBuilt, hookimpl

TRAINING_ROUNDS = 120  # enough for the demo's few thousand declarations per office, in seconds


@hookimpl
def demo_built(session: Session, demo: DemoBuilt) -> str | None:
    if demo.data_dir is None or not demo.declarations:
        return None
    from dragonnet.policy.access import Actor
    from dragonnet.storage.models import User
    from dragonnet.targeting import profile_service, service
    from dragonnet.targeting.profiles import builtin_profiles

    steps = 1 + 3 * len(demo.declarations)
    done = 0
    demo.progress(done, steps, "risk profiles")
    for username, text in demo.profiles:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        profile_service.import_profiles(session, Actor.for_user(user), text, "demo-profiles.yaml")
    done += 1
    for d in demo.declarations:
        demo.progress(done, steps, f"declarations of {d.agency}")
        service.import_declarations(session, demo.data_dir, d.history, agency_code=d.agency)
        done += 1
    lists = 0
    for d in demo.declarations:
        profiles = profile_service.stored_profile_set(session, d.agency) or builtin_profiles()
        demo.progress(done, steps, f"training the model for {d.agency}")
        service.train(session, demo.data_dir, profiles, agency_code=d.agency, rounds=TRAINING_ROUNDS, threads=2)
        done += 1
        demo.progress(done, steps, f"today's targeting lists of {d.agency}")
        batch = service.import_declarations(session, demo.data_dir, d.batch, agency_code=d.agency)
        lists += len(service.build_lists(session, demo.data_dir, batch, profiles, agency_code=d.agency,
                                         operation_slug=demo.operation_slug, threads=2))  # fmt: skip
        done += 1
    demo.progress(steps, steps, "targeting")
    return f"targeting: {len(demo.declarations)} agencies' declarations, {lists} lists for today"
