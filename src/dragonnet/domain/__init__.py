"""The vocabulary of a joint enforcement operation, defined once and reused everywhere."""
