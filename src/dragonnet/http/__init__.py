"""What the web pages and the JSON API share about HTTP, below both of them.

`deps`: the request's database session, who is logged in (session cookie or API token), CSRF checks.
`security`: security headers on every response and the CSRF token comparison.

web/ and api/ both import from here and never from each other (an import-linter contract).
"""
