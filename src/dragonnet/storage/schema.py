"""Every table of dragonnet: importing this module registers all capability models on one metadata."""

from __future__ import annotations

from dragonnet.storage import curation_models, intake_models, linkage_models, messaging_models, targeting_models
from dragonnet.storage.models import Base

metadata = Base.metadata
CAPABILITY_MODELS = (intake_models, messaging_models, targeting_models, linkage_models, curation_models)
