"""Texts with values: English for the API and the CLI, translated with the same values on pages; lower layers'
labels made where they are rendered; reference names in the reader's language with the reference name beside."""

from __future__ import annotations

import datetime as dt

from dragonnet import i18n
from dragonnet.intake.normalise import FUTURE_DATE, TOO_LONG
from dragonnet.messaging.alerts import TOO_MANY_INDICATORS
from dragonnet.operation.manage import PHASE_OVERLAP, UNKNOWN_AGENCY
from dragonnet.policy.users import UNKNOWN_ROLES
from dragonnet.reference import cites, substances
from dragonnet.reporting import render
from dragonnet.reporting.figures import Column, UnresolvedName
from dragonnet.reporting.rules import OPERATION, describe_rule


def test_a_plain_english_string_made_from_a_msgid_with_values_is_recognised_and_translated() -> None:
    text = TOO_LONG % {"limit": 40}
    assert text == "text longer than 40 characters" and i18n.translate(text) == text  # English: itself
    with i18n.use_locale("fr"):
        assert i18n.translate(text) == "texte de plus de 40 caractères"
    with i18n.use_locale("vi"):
        assert i18n.translate(FUTURE_DATE % {"today": "2026-12-06"}) == "ngày ở tương lai (hôm nay là 2026-12-06)"
        roles = UNKNOWN_ROLES % {"roles": "boss", "values": "reporter"}
        assert i18n.translate(roles) == "vai trò không xác định boss; hãy dùng reporter"
    with i18n.use_locale("fr"):  # a text that is no msgid, with or without values, is shown as it is
        assert i18n.translate("TH-CUS: Bangkok") == "TH-CUS: Bangkok"


def test_service_errors_of_the_operation_admin_and_messaging_are_translated_on_pages() -> None:
    overlap = PHASE_OVERLAP % {"phase": "Phase II", "start": dt.date(2015, 6, 30), "end": dt.date(2015, 12, 31),
                               "other": "Phase I (2015-01-01..2015-07-01)"}  # fmt: skip
    assert (
        overlap
        == "Phase II (2015-06-30..2015-12-31) would overlap Phase I (2015-01-01..2015-07-01): phases may not overlap"
    )
    with i18n.use_locale("fr"):
        assert i18n.translate(overlap) == (
            "Phase II (2015-06-30..2015-12-31) chevaucherait Phase I (2015-01-01..2015-07-01) : les phases ne "
            "peuvent pas se chevaucher"
        )
    # The most specific msgid wins: "unknown agency %(code)s" (user administration) also matches this text.
    unknown = UNKNOWN_AGENCY % {"code": "'XX-CUS'"}
    with i18n.use_locale("zh_Hans"):
        assert i18n.translate(unknown) == "未知机构 'XX-CUS'：请先添加（dragonnet agencies add）"
        assert i18n.translate(TOO_MANY_INDICATORS % {"max": 20}) == "最多 20 个指标，每个不超过 300 个字符"


def test_a_translatable_message_is_english_as_a_string_and_localised_on_a_page() -> None:
    flag = i18n.translatable("review due since %(date)s", date=dt.date(2024, 2, 1))
    assert flag == "review due since 2024-02-01" and isinstance(flag, str)
    with i18n.use_locale("fr"):
        assert str(flag) == "review due since 2024-02-01"  # still English as a str (JSON, CLI)
        assert i18n.translate(flag) == "revue due depuis le 1 févr. 2024"  # the date in the reader's form
    rate = i18n.translatable(
        "hit rate %(rate)s below the floor %(floor)s over %(n)s inspections",
        rate=i18n.Percent(0.05),
        floor=i18n.Percent(0.1),
        n=1200,
    )
    assert rate == "hit rate 5.0% below the floor 10.0% over 1200 inspections"
    with i18n.use_locale("fr"):
        expected = "taux de réussite 5,0\u00a0% sous le plancher 10,0\u00a0% sur 1\u202f200 contrôles"
        assert i18n.translate(rate) == expected


def test_lazy_texts_with_lazy_values_are_english_for_json() -> None:
    label = i18n.lazy_gettext("cases of %(agency)s you may see", agency=i18n.lazy_gettext("your agency"))
    with i18n.use_locale("fr"):
        assert str(label) == "affaires de votre service que vous pouvez voir"
        assert i18n.english(label) == "cases of your agency you may see"


def test_rule_sentences_and_labels_of_the_debrief_follow_the_locale() -> None:
    rule = OPERATION.as_dict()
    assert describe_rule(rule) == rule["text"]  # English: the rule's own text
    with i18n.use_locale("zh_Hans"):
        assert describe_rule(rule).startswith("仅限已审核案件; ")
        assert render.cell_text("drug", Column("commodity_class", "Class", "code")) == "毒品"
        assert render.cell_text("other", Column("c", "Concealment", "concealment")) == "其他或未说明"
        unresolved = UnresolvedName("yaba pills")
        assert unresolved == "(unresolved) yaba pills"  # JSON and CSV: English, as before
        assert render.cell_text(unresolved, Column("name", "Substance or taxon", "subject")) == "（未解析）yaba pills"


def test_reference_names_in_the_readers_language_where_the_data_has_them() -> None:
    assert cites.common_name("Manis javanica", "zh_Hans") == "马来穿山甲"  # curated Chinese
    assert cites.common_name("Manis javanica", "fr") == "Pangolin javanais"  # Species+ French
    assert cites.common_name("Manis javanica", "th") is None  # no Thai names in the data
    assert cites.common_name("Manis javanica", "en") is None  # English: the scientific name is the reference's
    assert substances.local_name("heroin", "vi") == "hêrôin" and substances.local_name("heroin", "km") is None
    with i18n.use_locale("zh_Hans"):
        assert render.subject_label("heroin") == "海洛因 (heroin)"
        assert render.subject_label("Manis") == "穿山甲 (Manis)"
    with i18n.use_locale("th"):
        assert render.subject_label("heroin") == "heroin"  # the reference name alone
