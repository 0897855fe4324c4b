"""Read a rendered page's layout from its DOM: element roles from tags, boxes as fractions of the full page.

The walk runs in the page (scripts of the page itself are frozen by then) and returns plain dicts; Python turns
them into a :class:`~modalities.layout.Layout`.
"""

from __future__ import annotations

import re
from typing import Any

from modalities.layout import CONTAINER_ROLES, LEAF_ROLES, Layout, LayoutElement

__all__ = ["DOM_LAYOUT_JS", "layout_from_dom"]

# Roles by tag: a leaf role ends the walk below it (a button's inner span is part of the button); a container
# role keeps walking. A <label> wrapping a form control becomes that control (one element in a sketch).
DOM_LAYOUT_JS = r"""
() => {
  const doc = document.documentElement;
  const W = Math.max(doc.scrollWidth, doc.clientWidth, 1);
  const H = Math.max(doc.scrollHeight, doc.clientHeight, document.body ? document.body.scrollHeight : 0, 1);
  const textInputs = new Set(['', 'text', 'email', 'password', 'search', 'tel', 'url', 'number', 'date']);
  const buttonInputs = new Set(['submit', 'button', 'reset', 'image']);
  function inputRole(el) {
    const t = (el.getAttribute('type') || '').toLowerCase();
    if (t === 'checkbox') return 'CheckBox';
    if (t === 'radio') return 'RadioButton';
    if (buttonInputs.has(t)) return 'Button';
    if (t === 'hidden') return null;
    return textInputs.has(t) ? 'TextBox' : 'TextBox';
  }
  function ownText(el) {
    let s = '';
    for (const n of el.childNodes) if (n.nodeType === 3) s += n.textContent;
    return s.replace(/\s+/g, ' ').trim();
  }
  function roleOf(el) {
    const tag = el.tagName.toLowerCase();
    const aria = (el.getAttribute('role') || '').toLowerCase();
    if (/^h[1-6]$/.test(tag)) return 'Heading';
    if (tag === 'p' || tag === 'blockquote') return 'Paragraph';
    if (tag === 'button' || aria === 'button') return 'Button';
    if (tag === 'input') return inputRole(el);
    if (tag === 'textarea') return 'TextBox';
    if (tag === 'select') return 'ComboBox';
    if (tag === 'a') return 'Link';
    if (['img', 'svg', 'figure', 'canvas', 'video', 'picture'].includes(tag) || aria === 'img') return 'Image';
    if (tag === 'label') {
      const ctl = el.querySelector('input, select, textarea');
      return ctl ? (ctl.tagName.toLowerCase() === 'input' ? inputRole(ctl) : roleOf(ctl)) : 'Label';
    }
    if (tag === 'nav') return 'nav';
    if (tag === 'header') return 'header';
    if (tag === 'footer') return 'footer';
    if (tag === 'form') return 'form';
    if (tag === 'section' || tag === 'aside') return 'section';
    if (tag === 'article' || el.classList.contains('card')) return 'card';
    if (ownText(el)) return 'Label';
    return null;
  }
  function textOf(el, role) {
    const tag = el.tagName.toLowerCase();
    if (tag === 'input' || tag === 'textarea') return el.value || el.getAttribute('placeholder') || '';
    if (tag === 'select') return el.options.length ? el.options[el.selectedIndex >= 0 ? el.selectedIndex : 0].text : '';
    if (role === 'Image') return el.getAttribute('aria-label') || el.getAttribute('alt') || '';
    if (['nav', 'header', 'footer', 'form', 'section', 'card'].includes(role)) return '';
    return (el.innerText || el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 300);
  }
  function visible(el, r) {
    if (r.width < 1 || r.height < 1) return false;
    const cs = getComputedStyle(el);
    return cs.visibility !== 'hidden' && cs.display !== 'none' && parseFloat(cs.opacity || '1') > 0.01;
  }
  const skip = new Set(['script', 'style', 'head', 'meta', 'link', 'template', 'noscript', 'option', 'title']);
  function walk(el, out) {
    for (const child of el.children) {
      const tag = child.tagName.toLowerCase();
      if (skip.has(tag)) continue;
      const r = child.getBoundingClientRect();
      const role = roleOf(child);
      if (role && !visible(child, r)) continue;
      if (!role) { walk(child, out); continue; }
      const node = {
        role, text: textOf(child, role),
        box: [(r.left + window.scrollX) / W, (r.top + window.scrollY) / H, r.width / W, r.height / H],
        children: [],
      };
      const container = ['nav', 'header', 'footer', 'form', 'section', 'card'].includes(role);
      if (container || (role === 'Label' && child.children.length)) walk(child, node.children);
      out.push(node);
    }
  }
  const elements = [];
  if (document.body) walk(document.body, elements);
  return {width: W, height: H, lang: doc.lang || '', elements};
}
"""


def _element(raw: dict[str, Any]) -> LayoutElement | None:
    role = raw.get("role")
    if role not in LEAF_ROLES and role not in CONTAINER_ROLES:
        return None
    children = [c for c in (_element(ch) for ch in raw.get("children", [])) if c is not None]
    x, y, w, h = (max(0.0, float(v)) for v in raw["box"])
    return LayoutElement(role=role, box=(x, y, w, h), text=str(raw.get("text", ""))[:300], children=children)


def layout_from_dom(raw: dict[str, Any]) -> Layout:
    """A :class:`Layout` from the dict :data:`DOM_LAYOUT_JS` returns.

    Example:
        >>> raw = {"width": 1280, "height": 720, "elements": [
        ...     {"role": "Heading", "text": "Hi", "box": [0.1, 0.1, 0.5, 0.1], "children": []}]}
        >>> layout_from_dom(raw).leaves()[0].role
        'Heading'
        >>> layout_from_dom({**raw, "lang": "es-ES"}).language
        'es'
    """
    elements = [e for e in (_element(r) for r in raw.get("elements", [])) if e is not None]
    # "es-ES", "pt_BR": the language, not the region
    language = re.split(r"[-_]", str(raw.get("lang") or "").strip().lower())[0] or None
    return Layout(width=int(raw.get("width") or 0) or None, height=int(raw.get("height") or 0) or None,
                  source="dom", language=language, elements=elements)
