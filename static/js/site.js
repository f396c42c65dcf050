/* Small ES5 enhancements (IE9+); every page works without them. */
(function () {
  'use strict';

  function on(type, handler) {
    if (document.addEventListener) { document.addEventListener(type, handler, false); }
  }

  function stop(event) {
    if (event.preventDefault) { event.preventDefault(); } else { event.returnValue = false; }
  }

  function targetOf(event) {
    var el = event.target || event.srcElement;
    return el && el.getAttribute ? el : null;
  }

  /* The "(N字节)" counter: UTF-8 bytes, as rules.byte_length counts them. */
  function utf8Length(text) {
    var bytes = 0, i, c;
    for (i = 0; i < text.length; i++) {
      c = text.charCodeAt(i);
      if (c < 0x80) { bytes += 1; }
      else if (c < 0x800) { bytes += 2; }
      else if (c >= 0xD800 && c <= 0xDBFF) { bytes += 4; i++; }
      else { bytes += 3; }
    }
    return bytes;
  }

  function updateCounters() {
    var areas = document.querySelectorAll('[data-byte-counter]'), i, counter;
    for (i = 0; i < areas.length; i++) {
      counter = document.getElementById(areas[i].getAttribute('data-byte-counter'));
      if (counter) { counter.innerHTML = counter.getAttribute('data-template').replace('{n}', utf8Length(areas[i].value)); }
    }
  }

  function onTyping(event) {
    var el = targetOf(event);
    if (el && el.getAttribute('data-byte-counter')) { updateCounters(); }
  }

  /* "已选择N项": count the ticked rows of a result table. */
  function onTick(event) {
    var el = targetOf(event), counter, boxes, n = 0, i;
    if (!el || !el.getAttribute('data-select-count') || !el.form) { return; }
    counter = document.getElementById(el.getAttribute('data-select-count'));
    if (!counter) { return; }
    boxes = el.form.querySelectorAll('input[data-select-count]');
    for (i = 0; i < boxes.length; i++) { if (boxes[i].checked) { n++; } }
    counter.innerHTML = counter.getAttribute('data-template').replace('{n}', n);
  }

  function trim(text) { return (text || '').replace(/^\s+|\s+$/g, ''); }

  function press(id) {
    var button = document.getElementById(id);
    if (button && !button.disabled) { button.click(); return true; }
    return false;
  }

  /* The HS code box and its 商品列表 (R8): Enter on a prefix of 4+ digits opens the list (查询商品) rather than
     adding an incomplete row; while the list for what is typed is open, the arrow keys move through its rows and
     Enter picks the chosen one (确定). A complete row (10 digits and a name) is still added by Enter. */
  function onPickerKey(event, box, key) {
    var part = document.getElementById(box.getAttribute('data-picker')),
      picker = part && part.querySelector('[data-prefix]'),
      rows = picker ? picker.getElementsByTagName('input') : [],
      typed = trim(box.value), name = document.getElementById(box.getAttribute('data-name')),
      open = rows.length > 0 && picker.getAttribute('data-prefix') === typed, i, at = 0;
    if ((key === 38 || key === 40) && open) {
      for (i = 0; i < rows.length; i++) { if (rows[i].checked) { at = i; } }
      at = Math.max(0, Math.min(rows.length - 1, at + (key === 40 ? 1 : -1)));
      rows[at].checked = true;
      reveal(rows[at]);
      stop(event);
      return true;
    }
    if (key !== 13 || (/^\d{10}$/.test(typed) && name && trim(name.value))) { return false; }
    if ((open && press(box.getAttribute('data-pick'))) || (/^\d{4,10}$/.test(typed) && press(box.getAttribute('data-search')))) {
      stop(event);
      return true;
    }
    return false;
  }

  /* Scroll a chosen picker row into sight, only when it is out of sight. */
  function reveal(el) {
    var box = el.getBoundingClientRect ? el.getBoundingClientRect() : null,
      height = window.innerHeight || document.documentElement.clientHeight;
    if (box && el.scrollIntoView && (box.top < 0 || box.bottom > height)) { el.scrollIntoView(box.top < 0); }
  }

  /* Enter in a goods or declaration-number box adds the row (clicks its add button) instead of submitting;
     Enter on a row of the HS picker picks it. */
  function onKeydown(event) {
    var el = targetOf(event), key = event.keyCode || event.which, picker;
    if (!el) { return; }
    if (el.getAttribute('data-picker') && onPickerKey(event, el, key)) { return; }
    if (key === 13 && el.name === 'hs_choice') {
      picker = document.querySelector('[data-pick]');
      if (picker && press(picker.getAttribute('data-pick'))) { stop(event); }
      return;
    }
    if (key === 13 && el.getAttribute('data-enter') && press(el.getAttribute('data-enter'))) { stop(event); }
  }

  /* A button with data-confirm (删除) asks first. */
  function onClick(event) {
    var el = targetOf(event), question;
    while (el && el.tagName !== 'BUTTON' && el.parentNode && el.parentNode.getAttribute) { el = el.parentNode; }
    question = el && el.tagName === 'BUTTON' && el.getAttribute('data-confirm');
    if (question && !el.disabled && !window.confirm(question)) { stop(event); }
  }

  function prevented(event) {
    return event.defaultPrevented || event.returnValue === false;
  }

  /* A plain form with data-busy (a page load on the way, maybe a 24 MB upload): once it is really sent, its
     buttons are disabled, so a second press cannot send it twice, and it says so: data-busy-upload when files
     go with it. Disabled a moment later, not at once: a button disabled now would be left out of what is sent. */
  function markBusy(form) {
    var inputs = form.getElementsByTagName('input'), buttons = form.getElementsByTagName('button'),
      notes = form.querySelectorAll('[data-busy-note]'), text = form.getAttribute('data-busy'), i;
    for (i = 0; i < inputs.length; i++) {
      if (inputs[i].type === 'file' && inputs[i].value) { text = form.getAttribute('data-busy-upload') || text; }
    }
    window.setTimeout(function () {
      for (i = 0; i < buttons.length; i++) {
        if (!buttons[i].disabled) { buttons[i].disabled = true; buttons[i].setAttribute('data-busy-disabled', '1'); }
      }
      for (i = 0; i < notes.length; i++) { notes[i].innerHTML = ''; notes[i].appendChild(document.createTextNode(text)); }
    }, 0);
  }

  /* Back to a page whose form was sent (the browser's page cache): its buttons work again. */
  function onPageShow() {
    var buttons = document.querySelectorAll('[data-busy-disabled]'), notes = document.querySelectorAll('[data-busy-note]'), i;
    for (i = 0; i < buttons.length; i++) { buttons[i].disabled = false; buttons[i].removeAttribute('data-busy-disabled'); }
    for (i = 0; i < notes.length; i++) { notes[i].innerHTML = ''; }
  }

  /* A plain form with data-confirm asks first; one with data-busy says it is on its way. */
  function onSubmit(event) {
    var form = targetOf(event), question = form && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) { stop(event); return; }
    if (form && form.getAttribute('data-busy') && !prevented(event)) { markBusy(form); }
  }

  /* While htmx redraws a part, the part says it is busy (its look comes from htmx-request, in site.css). */
  function onRequest(event) {
    var target = event.detail && event.detail.target;
    if (target && target.setAttribute) {
      if (event.type === 'htmx:beforeRequest') { target.setAttribute('aria-busy', 'true'); } else { target.removeAttribute('aria-busy'); }
    }
  }

  /* A refusal comes back as 400 or 409 with the page that explains it: htmx must show it, not drop it. */
  function onBeforeSwap(event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  }

  on('input', onTyping);
  on('htmx:beforeSwap', onBeforeSwap);
  on('keyup', onTyping);
  on('DOMContentLoaded', updateCounters);
  on('htmx:afterSettle', updateCounters);
  on('click', onTick);
  on('click', onClick);
  on('keydown', onKeydown);
  on('submit', onSubmit);
  on('htmx:beforeRequest', onRequest);
  on('htmx:afterRequest', onRequest);
  if (window.addEventListener) { window.addEventListener('pageshow', onPageShow, false); }
}());
