"""The locale of a page: the user's setting, else the switcher's cookie, else Accept-Language, else the
operation's default, else English; and the per-locale formats (CLDR through Babel)."""

from __future__ import annotations

import datetime as dt

import pytest

from dragonnet import i18n


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("de-DE,de;q=0.9,vi;q=0.5", "vi"),  # German is not shipped: the next choice
        ("zh-CN,zh;q=0.9", "zh_Hans"),
        ("zh-Hans", "zh_Hans"),
        ("zh-TW", None),  # Traditional Chinese is not shipped
        ("en;q=0.1, th;q=0.9", "th"),  # the quality decides, not the order
        ("km-KH", "km"),
        ("lo", "lo"),
        ("*", None),
        ("", None),
        ("fr;q=0", None),
        ("fr;q=nonsense", None),
    ],
)
def test_accept_language_negotiation(header: str, expected: str | None) -> None:
    assert i18n.negotiate(header) == expected


def test_selection_order() -> None:
    everything = {"user_setting": "vi", "cookie": "th", "accept_language": "fr", "operation_default": "km"}
    assert i18n.select_locale(**everything) == "vi"
    assert i18n.select_locale(**{**everything, "user_setting": None}) == "th"
    assert i18n.select_locale(**{**everything, "user_setting": None, "cookie": None}) == "fr"
    assert i18n.select_locale(operation_default="km", accept_language="de, es;q=0.5") == "km"
    assert i18n.select_locale(accept_language="de") == "en"
    assert i18n.select_locale(user_setting="xx", accept_language="lo") == "lo"  # an unknown setting is ignored


def test_normalise() -> None:
    assert i18n.normalise("zh_CN") == "zh_Hans"
    assert i18n.normalise("vi-VN") == "vi"
    assert i18n.normalise("fr") == "fr"
    assert i18n.normalise("klingon") is None
    assert i18n.normalise(None) is None


def test_formats_follow_the_locale_and_stored_values_stay_iso() -> None:
    day = dt.date(2023, 11, 5)
    with i18n.use_locale("fr"):
        assert i18n.format_number(1234567.5, 1) == "1\u202f234\u202f567,5"
        assert i18n.format_percent(0.25) == "25\u00a0%"
        assert i18n.format_date(day, "long") == "5 novembre 2023"
        assert i18n.format_date("2023-11-05", "long") == "5 novembre 2023"
        assert i18n.country_name("VN") == "Viêt Nam"
    with i18n.use_locale("vi"):
        assert i18n.format_number(1234.5, 1) == "1.234,5"
        assert i18n.country_name("TH") == "Thái Lan"
    with i18n.use_locale("zh_Hans"):
        assert i18n.country_name("LA") == "老挝"
    assert i18n.format_number(1234.5, 1) == "1,234.5"  # outside a page: English
    assert i18n.current_locale() == "en"
    assert day.isoformat() == "2023-11-05"


def test_lazy_text_is_translated_when_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    from babel.support import Translations

    catalogue = Translations()
    catalogue._catalog = {"Case %(ref)s": "Dossier %(ref)s"}  # a test-only French entry
    monkeypatch.setattr(i18n, "translations", lambda locale: catalogue if locale == "fr" else Translations())
    title = i18n.lazy_gettext("Case %(ref)s", ref="VN-1")
    assert str(title) == "Case VN-1"
    with i18n.use_locale("fr"):
        assert str(title) == "Dossier VN-1"
        assert i18n.translate("Case %(ref)s") == "Dossier %(ref)s"
        assert i18n.translate("no such msgid") == "no such msgid"


def test_language_names_are_in_their_own_language() -> None:
    names = {code: i18n.language_name(code) for code in i18n.LOCALES}
    assert names["fr"] == "français"
    assert names["vi"] == "Tiếng Việt"
    assert names["zh_Hans"].startswith("中文")


def test_notification_email_in_the_recipients_language(monkeypatch: pytest.MonkeyPatch) -> None:
    from babel.support import Translations

    from dragonnet.messaging.delivery import compose

    english = compose("amber", "alert", "Heroin, BKK to SGN", "/alerts/7", "https://dn.example")
    assert english == (
        "[TLP:AMBER] dragonnet: a new alert is waiting",
        "TLP:AMBER\n\nA new alert for you is waiting in dragonnet. Its content is TLP:AMBER and is not sent by "
        "e-mail.\n\nLog in to read it: https://dn.example/alerts/7\n",
    )
    catalogue = Translations()
    catalogue._catalog = {  # test-only French entries
        "dragonnet: a new %(kind)s is waiting": "dragonnet : un(e) %(kind)s vous attend",
        "Log in to read it: %(url)s": "Connectez-vous pour le lire : %(url)s",
    }
    monkeypatch.setattr(i18n, "translations", lambda locale: catalogue if locale == "fr" else Translations())
    subject, body = compose("amber", "alert", "Heroin", "/alerts/7", "https://dn.example", "fr")
    assert subject == "[TLP:AMBER] dragonnet : un(e) alert vous attend"
    assert body.endswith("Connectez-vous pour le lire : https://dn.example/alerts/7\n")
    assert compose("clear", "alert", "Heroin", "/alerts/7", "https://dn.example", None)[0] == "[TLP:CLEAR] Heroin"
