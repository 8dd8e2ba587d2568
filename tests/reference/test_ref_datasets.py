from __future__ import annotations

from importlib import resources

from dragonnet.reference import DatasetInfo, cites, datasets


def test_datasets_have_source_version_licence() -> None:
    infos = {d.name: d for d in datasets()}
    assert set(infos) == {"countries", "places", "cites", "substances", "goods"}
    for d in infos.values():
        assert isinstance(d, DatasetInfo)
        assert d.version and d.source and d.licence and d.records > 0, d
    assert infos["cites"].attribution == cites.ATTRIBUTION
    assert "UNEP-WCMC" in infos["cites"].attribution
    assert infos["cites"].version == "Species+ 2017-04-21"
    assert infos["countries"].records == 249
    assert infos["places"].records >= 200


def test_readme_carries_the_attribution() -> None:
    readme = resources.files("dragonnet.reference").joinpath("data").joinpath("README.md").read_text("utf-8")
    assert cites.ATTRIBUTION in readme
    assert "DRAGONNET_CITES_FILE" in readme
