"""The JSON API (`/api/v1`): thin routers that parse, call a capability and serialise a response model."""
