"""`/api/v1` routes of the linkage capability."""

from __future__ import annotations

from fastapi import APIRouter

from dragonnet.api.v1 import PREFIX

router = APIRouter(prefix=PREFIX)
