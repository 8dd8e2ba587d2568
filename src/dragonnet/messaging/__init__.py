"""Intelligence messaging: alerts routed along smuggling routes, acknowledgements and results that become
cases, bulletins, watchlists, delivery (inbox, server-sent events, e-mail) and attachments.

Modules: `identifiers` (kinds, normalisation, ISO 6346 / IMO / AWB check digits), `alerts`, `bulletins`,
`watchlists` (listens to `hooks.cases_written`), `inbox` (notifications and live events), `delivery` (SMTP
outbox), `attachments` (content-checked, content-addressed files), `stats` (turnaround; also a debrief
breakdown through `hooks.debrief_breakdowns`). Who sees which alert or bulletin: `policy.messaging`.
"""
