"""Counting rules as data: which reports count, how duplicates count, and which date puts a case in a phase.

The published figures of a joint operation rarely agree with each other because each was counted under a
different rule (validated cases or every report submitted; duplicates merged or not; by seizure date or by
report date). Here a rule is a value: three choices, each with a human sentence, and named presets. Every
figure the reporting package produces carries the rule it was counted under.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dragonnet.domain.vocabulary import CaseStatus
from dragonnet.errors import ValidationError
from dragonnet.i18n import N_, gettext


class Statuses(StrEnum):
    VALIDATED = "validated"  # validated cases only
    SUBMITTED = "submitted"  # every submitted report: submitted + validated (+ merged, see Duplicates)


class Duplicates(StrEnum):
    ONCE = "once"  # a merged duplicate (status `merged`) is not counted: its validated twin is
    EVERY_REPORT = "every_report"  # each report counts, merged duplicates included


class DateBasis(StrEnum):
    SEIZURE = "seizure_date"  # the phase whose period holds the seizure date (the stored phase)
    REPORT = "report_date"  # the phase whose period holds the date the report reached the system


# The sentences are catalogue msgids: `describe_rule` gives them in the locale a debrief is rendered in.
_SENTENCES: dict[str, str] = {
    Statuses.VALIDATED: N_("validated cases only"),
    Statuses.SUBMITTED: N_(
        "every submitted report (submitted, validated or merged; drafts and withdrawn reports excluded)"
    ),
    Duplicates.ONCE: N_("merged duplicates counted once (the duplicate report is not counted, its twin is)"),
    Duplicates.EVERY_REPORT: N_("duplicates not merged: every report counts"),
    DateBasis.SEIZURE: N_("assigned to a phase by seizure date"),
    DateBasis.REPORT: N_("assigned to a phase by report date (the day the report reached the system, UTC)"),
}


def describe_rule(rule: dict[str, Any]) -> str:
    """A rule (`CountingRule.as_dict()`) in one sentence in the current locale (English outside a rendering)."""
    keys = (Statuses(rule["statuses"]), Duplicates(rule["duplicates"]), DateBasis(rule["date_basis"]))
    return "; ".join(gettext(_SENTENCES[key]) for key in keys)


@dataclass(frozen=True)
class CountingRule:
    key: str
    title: str
    statuses: Statuses
    duplicates: Duplicates
    date_basis: DateBasis

    @property
    def counted_statuses(self) -> tuple[str, ...]:
        """The case statuses this rule counts."""
        out = [CaseStatus.VALIDATED.value]
        if self.statuses is Statuses.SUBMITTED:
            out.insert(0, CaseStatus.SUBMITTED.value)
        if self.duplicates is Duplicates.EVERY_REPORT:
            out.append(CaseStatus.MERGED.value)
        return tuple(out)

    @property
    def sentences(self) -> tuple[str, str, str]:
        return (_SENTENCES[self.statuses], _SENTENCES[self.duplicates], _SENTENCES[self.date_basis])

    @property
    def text(self) -> str:
        """The rule in one sentence, e.g. 'validated cases only; merged duplicates counted once; ...'."""
        return "; ".join(self.sentences)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "statuses": self.statuses.value,
            "duplicates": self.duplicates.value,
            "date_basis": self.date_basis.value,
            "counted_statuses": list(self.counted_statuses),
            "text": self.text,
        }


OPERATION = CountingRule(
    "operation",
    N_("The operation's headline rule"),
    Statuses.VALIDATED,
    Duplicates.ONCE,
    DateBasis.SEIZURE,
)
WCO_REPORTED = CountingRule(
    "wco-reported",
    N_("Reports submitted to the WCO database"),
    Statuses.SUBMITTED,
    Duplicates.EVERY_REPORT,
    DateBasis.SEIZURE,
)

PRESETS: dict[str, CountingRule] = {r.key: r for r in (OPERATION, WCO_REPORTED)}
DEFAULT = OPERATION


def preset(key: str) -> CountingRule:
    """A named rule; a clear error listing the names otherwise."""
    try:
        return PRESETS[key]
    except KeyError:
        raise ValidationError(f"unknown counting rule {key!r}; use {', '.join(PRESETS)}") from None


def custom(statuses: str, duplicates: str, date_basis: str) -> CountingRule:
    """A rule built from its three choices (a preset's key when it equals one)."""
    try:
        rule = CountingRule("custom", "Custom rule", Statuses(statuses), Duplicates(duplicates), DateBasis(date_basis))
    except ValueError as exc:
        raise ValidationError(f"invalid counting rule: {exc}") from None
    for named in PRESETS.values():
        if (named.statuses, named.duplicates, named.date_basis) == (rule.statuses, rule.duplicates, rule.date_basis):
            return named
    return rule
