"""Install the shipped automation blueprints into the user's configuration.

The blueprints in ``blueprints/automation/`` are copied to
``<config>/blueprints/automation/print_sentinel/`` so they appear in Settings >
Automations & scenes > Blueprints without importing anything.

A hidden manifest beside them remembers the hash of every file this module wrote,
so an update can tell an untouched copy of an older version (replaced by the new
version) from a copy the user edited (kept as it is; the new version is written
beside it as ``<name>.yaml.new`` and a repair issue says so). A blueprint the user
deleted stays deleted. A second run with nothing to do only reads and hashes a few
small files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import hashlib
import json
from pathlib import Path
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.start import async_at_started
from homeassistant.util.file import write_utf8_file

from .const import DOMAIN, LOGGER

BLUEPRINT_SOURCE: Final = Path(__file__).parent / "blueprints" / "automation"
MANIFEST_NAME: Final = ".print_sentinel_blueprints.json"
MANIFEST_VERSION: Final = 1
NEW_VERSION_SUFFIX: Final = ".new"
ISSUE_BLUEPRINT_MODIFIED: Final = "blueprint_modified"
DOCS_URL: Final = (
    "https://github.com/print-sentinel/print_sentinel/blob/main/docs/"
    "automations.md#updating-the-installed-blueprints"
)


@dataclass(kw_only=True)
class InstallResult:
    """What one installation run did, by blueprint file name."""

    shipped: list[str] = field(default_factory=list)
    """Every blueprint the integration ships."""
    installed: list[str] = field(default_factory=list)
    """Copied for the first time."""
    updated: list[str] = field(default_factory=list)
    """An unchanged copy of an older version, replaced by the shipped version."""
    offered: list[str] = field(default_factory=list)
    """Edited by the user: the shipped version was written beside it just now."""
    edited: list[str] = field(default_factory=list)
    """Edited by the user, with a newer version waiting beside it (``.new``)."""

    @property
    def changed(self) -> bool:
        """Return whether any file was written."""
        return bool(self.installed or self.updated or self.offered)


def target_folder(hass: HomeAssistant) -> Path:
    """Return where the blueprints are installed."""
    return Path(hass.config.path("blueprints", "automation", DOMAIN))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _load_manifest(path: Path) -> dict[str, dict[str, str]]:
    """Return the manifest's hash tables; an unreadable manifest is an empty one."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raw = {}
    except (OSError, ValueError) as err:
        LOGGER.warning("Ignoring unreadable blueprint manifest %s: %s", path, err)
        raw = {}
    tables: dict[str, dict[str, str]] = {"installed": {}, "offered": {}}
    if isinstance(raw, dict):
        for name, table in tables.items():
            value = raw.get(name)
            if isinstance(value, dict):
                table.update((str(key), str(digest)) for key, digest in value.items())
    return tables


def install_blueprints(source: Path, target: Path) -> InstallResult:
    """Copy the blueprints from source to target (blocking; run in the executor)."""
    result = InstallResult()
    manifest_path = target / MANIFEST_NAME
    manifest = _load_manifest(manifest_path)
    installed, offered = manifest["installed"], manifest["offered"]
    before = json.dumps(manifest, sort_keys=True)
    target.mkdir(parents=True, exist_ok=True)

    for shipped in sorted(source.glob("*.yaml")):
        name = shipped.name
        result.shipped.append(name)
        content = shipped.read_bytes()
        digest = _sha256(content)
        dest = target / name
        new_version = target / f"{name}{NEW_VERSION_SUFFIX}"

        try:
            current: bytes | None = dest.read_bytes()
        except FileNotFoundError:
            current = None

        if current is None:
            if name not in installed:
                write_utf8_file(str(dest), content, mode="wb")
                installed[name] = digest
                result.installed.append(name)
            # else: the user deleted it; leave it deleted
            continue

        current_digest = _sha256(current)
        if current_digest == digest:
            # up to date, or the user adopted the new version
            installed[name] = digest
            offered.pop(name, None)
            if new_version.is_file() and _sha256(new_version.read_bytes()) == digest:
                new_version.unlink()
        elif current_digest == installed.get(name):
            # an older version nobody touched: safe to replace
            write_utf8_file(str(dest), content, mode="wb")
            installed[name] = digest
            offered.pop(name, None)
            result.updated.append(name)
        else:
            # edited by the user (or not ours): keep it, offer the new version once
            if offered.get(name) != digest:
                write_utf8_file(str(new_version), content, mode="wb")
                offered[name] = digest
                result.offered.append(name)
            if new_version.is_file():
                result.edited.append(name)

    if json.dumps(manifest, sort_keys=True) != before:
        write_utf8_file(
            str(manifest_path),
            json.dumps({"version": MANIFEST_VERSION, **manifest}, indent=2) + "\n",
        )
    return result


async def async_install_blueprints(hass: HomeAssistant) -> None:
    """Install or update the shipped blueprints now, then report what changed."""
    target = target_folder(hass)
    try:
        result = await hass.async_add_executor_job(
            install_blueprints, BLUEPRINT_SOURCE, target
        )
    except (OSError, HomeAssistantError) as err:
        LOGGER.warning(
            "Could not install the automation blueprints in %s: %s", target, err
        )
        return

    if result.changed:
        LOGGER.info(
            "Automation blueprints in %s: installed %s, updated %s, "
            "kept your edited %s (new version saved as .yaml.new)",
            target,
            result.installed or "none",
            result.updated or "none",
            result.offered or "none",
        )
    else:
        LOGGER.debug("Automation blueprints in %s are up to date", target)

    for name in result.shipped:
        issue_id = f"{ISSUE_BLUEPRINT_MODIFIED}_{name.removesuffix('.yaml')}"
        if name in result.edited:
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_BLUEPRINT_MODIFIED,
                translation_placeholders={
                    "blueprint": name,
                    "path": str(target / name),
                    "new_path": str(target / f"{name}{NEW_VERSION_SUFFIX}"),
                },
                learn_more_url=DOCS_URL,
            )
        else:
            ir.async_delete_issue(hass, DOMAIN, issue_id)

    if result.updated:
        await _async_reload_automations_using(hass, result.updated)


async def _async_reload_automations_using(
    hass: HomeAssistant, names: list[str]
) -> None:
    """Reload automations if one uses an updated blueprint (as a re-import does)."""
    if "automation" not in hass.config.components:
        return
    from homeassistant.components.automation import automations_with_blueprint

    if any(automations_with_blueprint(hass, f"{DOMAIN}/{name}") for name in names):
        await hass.services.async_call("automation", "reload", blocking=True)


@callback
def async_setup_blueprint_install(hass: HomeAssistant) -> None:
    """Install the blueprints once Home Assistant has started.

    Waiting for the start lets the automation integration first add its own example
    blueprints (it only does so while ``blueprints/automation`` does not exist) and
    load the automations, which are then reloaded if a blueprint they use changed.
    """
    async_at_started(hass, async_install_blueprints)
