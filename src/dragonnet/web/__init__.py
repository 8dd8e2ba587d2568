"""The web shell: server-rendered pages (Jinja2 + htmx), login/logout, static assets shipped in the package."""
