"""What a user at 1024×768 can see: the one measure of content cut off by the layout, for the browser tests."""

SMALL_SCREEN = {"width": 1024, "height": 768}

# Every visible control, label, link and table heading under a selector (a form, or the page's #content), and
# whether the user can see it all: inside the viewport, and inside every ancestor that clips (overflow not
# visible), unless that ancestor scrolls (then it can be scrolled to).
# A function, not an expression: Playwright evaluates a bare expression with eval, which the CSP refuses.
CUT_OFF = """(selector) => {
  const root = document.querySelector(selector);
  if (!root) return ['no ' + selector];
  const width = document.documentElement.clientWidth;
  const cut = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '')
    + ' "' + (el.innerText || el.value || '').trim().slice(0, 30) + '"';
  for (const el of root.querySelectorAll('input:not([type=hidden]), select, textarea, button, label, th, a')) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden' || el.closest('.default-button, .visually-hidden')) continue;
    let scrolls = false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const s = getComputedStyle(up);
      if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
      // A list scrolling inside the form is fine; the form itself (or the page around it) scrolling is not.
      if ((s.overflowX === 'auto' || s.overflowX === 'scroll') && root.contains(up) && up !== root) { scrolls = true; break; }
      const outer = up.getBoundingClientRect();
      if (box.left < outer.left - 1 || box.right > outer.right + 1) { cut.push(name(el) + ' clipped by ' + name(up)); break; }
    }
    const cell = el.parentElement && el.parentElement.closest('th, td');
    if (cell) {
      const c = cell.getBoundingClientRect();
      if (box.left < c.left - 1 || box.right > c.right + 1) cut.push(name(el) + ' overflows its cell');
    }
    if (!scrolls && (box.left < -1 || box.right > width + 1)) cut.push(name(el) + ' right ' + Math.round(box.right) + ' > ' + width);
    // A label wrapped one character a line: as many lines as characters (each line's box counted once).
    if (el.tagName === 'LABEL' || el.tagName === 'TH') {
      const range = document.createRange();
      range.selectNodeContents(el);
      const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
      const chars = el.innerText.trim().length;
      if (chars > 2 && tops.size > 2 && tops.size * 2 > chars) cut.push(name(el) + ' wraps per character');
    }
  }
  return cut;
}"""


def cut_off(page, selector):
    """What under ``selector`` the user cannot see or scroll to on ``page`` (empty when nothing is cut off)."""
    return page.evaluate(CUT_OFF, selector)
