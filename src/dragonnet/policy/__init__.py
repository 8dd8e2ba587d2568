"""Who may see and do what: the one place every query is filtered through, and the audit chain."""
