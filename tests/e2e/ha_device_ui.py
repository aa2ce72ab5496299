"""The config flow's selectors as a user sees them: device picker, entity pickers, chips.

Home Assistant's frontend renders a flow's form as `ha-form` inside the
`dialog-data-entry-flow`; each field is an `ha-selector-*` element. Playwright's CSS
and text locators pierce the open shadow roots, so these helpers find a field by the
label the user reads (the translated `data` of strings.json), never by its key.
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import Locator

from .ui import UiPage

# A field's subtree: tag, a few attributes, text (shadow roots included); to learn
# the frontend's structure when a helper does not find what it looks for.
DUMP_JS = """
(root) => {
  const out = [];
  const walk = (node, depth) => {
    if (depth > 40) return;
    if (node.nodeType === Node.TEXT_NODE) {
      const t = node.textContent.trim();
      if (t) out.push('  '.repeat(depth) + JSON.stringify(t));
      return;
    }
    if (node.nodeType === Node.ELEMENT_NODE) {
      if (node.nodeName === 'STYLE' || node.nodeName === 'SCRIPT') return;
      const attrs = ['label', 'value', 'placeholder', 'role', 'aria-label', 'class', 'name']
        .filter((a) => node.getAttribute(a) !== null)
        .map((a) => `${a}=${JSON.stringify(node.getAttribute(a)).slice(0, 80)}`);
      let line = '  '.repeat(depth) + '<' + node.nodeName.toLowerCase() + ' ' + attrs.join(' ') + '>';
      if ('value' in node && typeof node.value === 'string' && node.value)
        line += ' .value=' + JSON.stringify(node.value).slice(0, 80);
      if ('label' in node && typeof node.label === 'string' && node.label)
        line += ' .label=' + JSON.stringify(node.label).slice(0, 80);
      out.push(line);
      if (node.shadowRoot) { out.push('  '.repeat(depth + 1) + '#shadow'); for (const c of node.shadowRoot.childNodes) walk(c, depth + 2); }
    }
    for (const c of node.childNodes) walk(c, depth + 1);
  };
  walk(root, 0);
  return out.join('\\n');
}
"""


# An element's text, shadow roots included (`inner_text` stops at them).
DEEP_TEXT_JS = """
(root) => {
  const parts = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      const text = node.textContent.trim();
      if (text) parts.push(text);
      return;
    }
    if (node.nodeName === 'STYLE' || node.nodeName === 'SCRIPT') return;
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
  };
  walk(root);
  return parts.join('\\n');
}
"""


async def deep_text(locator: Locator) -> str:
    """Return the text of the (first) element, through its shadow roots."""
    return str(await locator.first.evaluate(DEEP_TEXT_JS))


async def dump(ui: UiPage, selector: str = "dialog-data-entry-flow") -> str:
    """Return the subtree of `selector` (first match) as indented text."""
    return str(await ui.page.locator(selector).first.evaluate(DUMP_JS))


async def device_picker_label(ui: UiPage) -> str | None:
    """Return the device picker's accessible name (its label)."""
    field = ui.dialog().locator("ha-selector-device ha-picker-field")
    return await field.first.get_attribute("aria-label")


async def pick_device(ui: UiPage, device_name: str) -> str:
    """Open the device picker, search the device and pick it; return its row's text."""
    dialog = ui.dialog()
    await dialog.locator("ha-selector-device ha-picker-field").first.click()
    combo = dialog.locator("ha-selector-device ha-picker-combo-box")
    await combo.locator("input").first.fill(device_name)
    # the row's element differs between frontend releases (2026.10: a
    # `.combo-box-row`; 2026.11: a list option): whichever shows the device
    row = combo.locator(
        ".combo-box-row, [role=option], ha-combo-box-item, mwc-list-item"
    ).filter(has_text=device_name)
    await row.first.wait_for()
    await ui.step("ha-device-picker-open")
    text = await deep_text(row)
    await row.first.click()
    return text


async def device_picker_value(ui: UiPage) -> str:
    """Return the text the device picker shows (its label and the picked device)."""
    return await deep_text(ui.dialog().locator("ha-selector-device ha-picker-field"))


FIELDS_JS = """
(selectors) => selectors.map((el) => {
  const text = (root) => {
    const parts = [];
    const walk = (node) => {
      if (node.nodeType === Node.TEXT_NODE) {
        const t = node.textContent.trim();
        if (t) parts.push(t);
        return;
      }
      if (node.nodeName === 'STYLE' || node.nodeName === 'SCRIPT') return;
      if (node.shadowRoot) walk(node.shadowRoot);
      for (const child of node.childNodes) walk(child);
    };
    walk(root);
    return parts;
  };
  const deep = (root, tag) => {
    const found = [];
    const walk = (node) => {
      if (node.nodeName && node.nodeName.toLowerCase() === tag) found.push(node);
      if (node.shadowRoot) walk(node.shadowRoot);
      for (const child of node.children || []) walk(child);
    };
    walk(root);
    return found;
  };
  const field = deep(el, 'ha-picker-field')[0];
  return {
    label: el.label ?? null,
    value: el.value ?? null,
    shown: field ? text(field) : [],
    // a chip's label is in its shadow root and, slotted, in its light DOM
    chips: deep(el, 'ha-input-chip').map(
      (chip) => [...new Set(text(chip))].filter((t) => t !== 'Remove')),
  };
})
"""


async def form_fields(ui: UiPage, tag: str) -> dict[str, dict[str, Any]]:
    """Return each `tag` (`ha-selector-entity`, ...) of the form by its label.

    Per field: `value` (what the form submits), `shown` (the text of its picker:
    the entity's name and device) and `chips` (the text of each chip).
    """
    fields = await ui.dialog().locator(tag).evaluate_all(FIELDS_JS)
    if not fields:
        raise AssertionError(f"the form has no {tag}:\n{await dump(ui)}")
    return {str(field["label"]): field for field in fields}


async def scroll_to(ui: UiPage, tag: str, index: int) -> None:
    """Scroll the form to its `index`th `tag` (for the screenshot)."""
    await ui.dialog().locator(tag).nth(index).scroll_into_view_if_needed()
