"""leaner case indexes: drop two indexes duplicated by unique keys and one no query uses; partial item indexes

Every index is paid for by every bulk import (docs/benchmarks.md, case intake):
- ix_cases_reporting_agency_id duplicates the leading column of uq_cases_reporting_agency_id;
- ix_case_transits_case_id duplicates the leading column of uq_case_transits_case_id;
- ix_items_commodity_class (four values) serves no query: filters go through the case;
- ix_items_substance and ix_items_taxon become partial (WHERE ... IS NOT NULL): each is set on part of the
  items only.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_cases_reporting_agency_id", table_name="cases")
    op.drop_index("ix_case_transits_case_id", table_name="case_transits")
    op.drop_index("ix_items_commodity_class", table_name="items")
    for column in ("substance", "taxon"):
        op.drop_index(f"ix_items_{column}", table_name="items")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(f"ix_items_{column}", "items", [column], postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    for column in ("substance", "taxon"):
        op.drop_index(f"ix_items_{column}", table_name="items")
        op.create_index(f"ix_items_{column}", "items", [column])
    op.create_index("ix_items_commodity_class", "items", ["commodity_class"])
    op.create_index("ix_case_transits_case_id", "case_transits", ["case_id"])
    op.create_index("ix_cases_reporting_agency_id", "cases", ["reporting_agency_id"])
