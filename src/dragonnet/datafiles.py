"""Reading the YAML data files the package ships (the exchange format, substances, screening columns)."""

from __future__ import annotations

from typing import Any

import yaml


def load_yaml(text: str) -> Any:
    """YAML as `yaml.safe_load` reads it, with libyaml's safe loader where PyYAML has it (its wheels do): several
    times faster than the Python loader, which took 0.1-0.2 s of every process's start (each CLI command, each
    server worker) on the exchange format's file."""
    if yaml.__with_libyaml__:
        return yaml.load(text, Loader=yaml.CSafeLoader)
    return yaml.safe_load(text)
