"""The dragonnet command line (Typer)."""
