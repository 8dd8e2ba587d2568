"""dragonnet: the shared platform of a joint customs and law-enforcement operation."""

__version__ = "0.1.0"
