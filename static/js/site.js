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

  /* Enter in a goods or declaration-number box adds the row (clicks its add button) instead of submitting. */
  function onEnter(event) {
    var el = targetOf(event), button;
    if ((event.keyCode || event.which) !== 13 || !el || !el.getAttribute('data-enter')) { return; }
    button = document.getElementById(el.getAttribute('data-enter'));
    if (button) { stop(event); button.click(); }
  }

  /* A plain form with data-confirm asks first. */
  function onSubmit(event) {
    var form = targetOf(event), question = form && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) { stop(event); }
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
  on('keydown', onEnter);
  on('submit', onSubmit);
}());
