"""languages: a user's language and an operation's default language

- `users.language`: the locale the user chose (account page or the language switcher); NULL: none chosen,
  the browser's Accept-Language decides.
- `operations.default_language`: the locale of the operation's pages when neither the user nor the browser
  names a shipped one (admin operation page); NULL: English.

Values are the shipped locale codes of `dragonnet.i18n.LOCALES` ("en", "zh_Hans", "vi", ...).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=True))
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("default_language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("default_language")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
