"""Installing the shipped blueprints: first install, updates, and the user's edits."""

from __future__ import annotations

import json
import logging
from pathlib import Path
import shutil

from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.print_sentinel import blueprint_install
from custom_components.print_sentinel.blueprint_install import (
    MANIFEST_NAME,
    async_install_blueprints,
    async_setup_blueprint_install,
    install_blueprints,
)
from custom_components.print_sentinel.const import DOMAIN

from . import BLUEPRINT_FILES, BLUEPRINT_SOURCE

LOGGER_NAME = "custom_components.print_sentinel"

# A tiny blueprint in two versions, to ship "an update"
TINY = """\
blueprint:
  name: "Print Sentinel: tiny"
  domain: automation
  input: {{}}
triggers:
  - trigger: event
    event_type: tiny
actions:
  - action: test.{version}
"""


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Give every test its own config directory, without blueprints in it yet."""
    shutil.rmtree(Path(hass_tmp_config_dir, "blueprints"), ignore_errors=True)
    return hass_tmp_config_dir


class Shipped:
    """A stand-in for the integration's blueprint folder, one release at a time."""

    def __init__(self, folder: Path) -> None:
        """Start with version 1 of the tiny blueprint."""
        self.folder = folder
        folder.mkdir()
        self.release("v1")

    def release(self, version: str) -> None:
        """Ship this version of tiny.yaml."""
        (self.folder / "tiny.yaml").write_text(TINY.format(version=version))

    def content(self, version: str) -> str:
        """Return what tiny.yaml looks like in that version."""
        return TINY.format(version=version)


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Shipped:
    """Ship the tiny blueprint instead of the real ones."""
    ship = Shipped(tmp_path / "shipped")
    monkeypatch.setattr(blueprint_install, "BLUEPRINT_SOURCE", ship.folder)
    return ship


def _target(hass: HomeAssistant) -> Path:
    return Path(hass.config.path("blueprints", "automation", DOMAIN))


def _issue(hass: HomeAssistant, name: str = "tiny") -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"blueprint_modified_{name}")


async def test_first_run_installs_every_blueprint(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)

    await async_install_blueprints(hass)

    target = _target(hass)
    for name in BLUEPRINT_FILES:
        assert (target / name).read_bytes() == (BLUEPRINT_SOURCE / name).read_bytes()
    manifest = json.loads((target / MANIFEST_NAME).read_text())
    assert set(manifest["installed"]) == set(BLUEPRINT_FILES)
    assert [r.levelname for r in caplog.records if r.name == LOGGER_NAME] == ["INFO"]

    # and Home Assistant offers them
    assert await async_setup_component(hass, "automation", {})
    found = await async_get_blueprints(hass).async_get_blueprints()
    assert {f"{DOMAIN}/{name}" for name in BLUEPRINT_FILES} <= set(found)


async def test_second_run_changes_nothing_and_stays_quiet(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await async_install_blueprints(hass)
    caplog.clear()
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    writes: list[str] = []
    monkeypatch.setattr(
        blueprint_install, "write_utf8_file", lambda name, *a, **k: writes.append(name)
    )

    await async_install_blueprints(hass)

    assert writes == []
    assert not [r for r in caplog.records if r.name == LOGGER_NAME]


async def test_untouched_old_version_is_updated(
    hass: HomeAssistant, shipped: Shipped
) -> None:
    await async_install_blueprints(hass)

    shipped.release("v2")
    await async_install_blueprints(hass)

    assert (_target(hass) / "tiny.yaml").read_text() == shipped.content("v2")
    assert not (_target(hass) / "tiny.yaml.new").exists()
    assert _issue(hass) is None


async def test_edited_blueprint_is_kept_and_the_new_version_offered(
    hass: HomeAssistant, shipped: Shipped
) -> None:
    await async_install_blueprints(hass)
    mine = shipped.content("v1").replace("test.v1", "test.mine")
    (_target(hass) / "tiny.yaml").write_text(mine)

    shipped.release("v2")
    await async_install_blueprints(hass)

    assert (_target(hass) / "tiny.yaml").read_text() == mine
    assert (_target(hass) / "tiny.yaml.new").read_text() == shipped.content("v2")
    issue = _issue(hass)
    assert issue is not None
    assert issue.translation_key == "blueprint_modified"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {
        "blueprint": "tiny.yaml",
        "path": str(_target(hass) / "tiny.yaml"),
        "new_path": str(_target(hass) / "tiny.yaml.new"),
    }

    # nothing changes on the next start: the edit is still the user's
    await async_install_blueprints(hass)
    assert (_target(hass) / "tiny.yaml").read_text() == mine
    assert _issue(hass) is not None


async def test_adopting_the_new_version_clears_the_issue(
    hass: HomeAssistant, shipped: Shipped
) -> None:
    await async_install_blueprints(hass)
    (_target(hass) / "tiny.yaml").write_text("# my own version\n")
    shipped.release("v2")
    await async_install_blueprints(hass)

    # the user takes the new version over their edit
    shutil.copyfile(_target(hass) / "tiny.yaml.new", _target(hass) / "tiny.yaml")
    await async_install_blueprints(hass)

    assert _issue(hass) is None
    assert not (_target(hass) / "tiny.yaml.new").exists()
    # and from now on it is updated like any untouched copy
    shipped.release("v3")
    await async_install_blueprints(hass)
    assert (_target(hass) / "tiny.yaml").read_text() == shipped.content("v3")


async def test_declined_new_version_is_not_offered_again_until_the_next(
    hass: HomeAssistant, shipped: Shipped
) -> None:
    await async_install_blueprints(hass)
    (_target(hass) / "tiny.yaml").write_text("# my own version\n")
    shipped.release("v2")
    await async_install_blueprints(hass)

    (_target(hass) / "tiny.yaml.new").unlink()  # the user keeps their edit
    await async_install_blueprints(hass)
    assert not (_target(hass) / "tiny.yaml.new").exists()
    assert _issue(hass) is None

    shipped.release("v3")
    await async_install_blueprints(hass)
    assert (_target(hass) / "tiny.yaml.new").read_text() == shipped.content("v3")
    assert _issue(hass) is not None


async def test_deleted_blueprint_stays_deleted(
    hass: HomeAssistant, shipped: Shipped
) -> None:
    await async_install_blueprints(hass)
    (_target(hass) / "tiny.yaml").unlink()

    shipped.release("v2")
    await async_install_blueprints(hass)

    assert not (_target(hass) / "tiny.yaml").exists()


async def test_blueprint_already_there_without_manifest_is_kept(
    hass: HomeAssistant, shipped: Shipped
) -> None:
    target = _target(hass)
    target.mkdir(parents=True)
    (target / "tiny.yaml").write_text("# copied here by hand, then changed\n")

    await async_install_blueprints(hass)

    assert (target / "tiny.yaml").read_text() == "# copied here by hand, then changed\n"
    assert (target / "tiny.yaml.new").read_text() == shipped.content("v1")


@pytest.mark.parametrize("manifest", ["{not json", "[]", '{"installed": 3}'])
def test_corrupt_manifest_is_rebuilt(tmp_path: Path, manifest: str) -> None:
    target = tmp_path / "target"
    install_blueprints(BLUEPRINT_SOURCE, target)
    (target / MANIFEST_NAME).write_text(manifest)

    result = install_blueprints(BLUEPRINT_SOURCE, target)

    assert not result.changed  # identical copies are recognised by their content
    rebuilt = json.loads((target / MANIFEST_NAME).read_text())
    assert set(rebuilt["installed"]) == set(BLUEPRINT_FILES)


async def test_unwritable_config_is_a_warning_not_a_crash(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    target = _target(hass)
    target.parent.mkdir(parents=True)
    target.write_text("a file where the folder should be")

    await async_install_blueprints(hass)

    assert "Could not install the automation blueprints" in caplog.text


async def test_update_reloads_automations_that_use_it(
    hass: HomeAssistant, shipped: Shipped
) -> None:
    v1 = async_mock_service(hass, "test", "v1")
    v2 = async_mock_service(hass, "test", "v2")
    await async_install_blueprints(hass)
    configuration = _target(hass).parents[2] / "configuration.yaml"
    configuration.write_text(
        f"automation:\n  - use_blueprint:\n      path: {DOMAIN}/tiny.yaml\n"
    )
    assert await async_setup_component(
        hass,
        "automation",
        {"automation": {"use_blueprint": {"path": f"{DOMAIN}/tiny.yaml"}}},
    )
    hass.bus.async_fire("tiny")
    await hass.async_block_till_done()
    assert (len(v1), len(v2)) == (1, 0)

    shipped.release("v2")
    await async_install_blueprints(hass)
    hass.bus.async_fire("tiny")
    await hass.async_block_till_done()

    assert (len(v1), len(v2)) == (1, 1)


async def test_install_waits_for_home_assistant_to_start(
    hass: HomeAssistant,
) -> None:
    hass.set_state(CoreState.starting)
    assert await async_setup_component(hass, "automation", {})

    async_setup_blueprint_install(hass)
    await hass.async_block_till_done()
    assert not _target(hass).exists()

    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()

    assert {p.name for p in _target(hass).glob("*.yaml")} == set(BLUEPRINT_FILES)
    # Home Assistant's own examples (added only to a new blueprints folder) were
    # not crowded out
    examples = _target(hass).parent / "homeassistant"
    assert (examples / "motion_light.yaml").exists()
