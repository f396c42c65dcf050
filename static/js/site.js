/* Small ES5 enhancements; every page works without them. */
(function () {
  'use strict';
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
    var areas = document.querySelectorAll('[data-byte-counter]'), i, target;
    for (i = 0; i < areas.length; i++) {
      target = document.getElementById(areas[i].getAttribute('data-byte-counter'));
      if (target) { target.innerHTML = '(' + utf8Length(areas[i].value) + target.getAttribute('data-unit') + ')'; }
    }
  }
  function onInput(event) {
    var el = event.target || event.srcElement;
    if (el && el.getAttribute && el.getAttribute('data-byte-counter')) { updateCounters(); }
  }
  if (document.addEventListener) {
    document.addEventListener('input', onInput, false);
    document.addEventListener('keyup', onInput, false);
    document.addEventListener('DOMContentLoaded', updateCounters, false);
    document.addEventListener('htmx:afterSettle', updateCounters, false);
  }
}());
/* "已选择N项": count the ticked rows of a result table. */
(function () {
  'use strict';
  function onChange(event) {
    var el = event.target || event.srcElement, id, counter, form, boxes, n = 0, i;
    if (!el || !el.getAttribute || !(id = el.getAttribute('data-select-count'))) { return; }
    counter = document.getElementById(id);
    form = el.form;
    if (!counter || !form) { return; }
    boxes = form.querySelectorAll('input[data-select-count]');
    for (i = 0; i < boxes.length; i++) { if (boxes[i].checked) { n++; } }
    counter.innerHTML = counter.getAttribute('data-template').replace('{n}', n);
  }
  if (document.addEventListener) { document.addEventListener('click', onChange, false); }
}());
/* Enter in a goods or declaration-number box adds the row (clicks its add button) instead of submitting the form. */
(function () {
  'use strict';
  function onKeyDown(event) {
    var el = event.target || event.srcElement, id, button;
    if ((event.keyCode || event.which) !== 13 || !el || !el.getAttribute || !(id = el.getAttribute('data-enter'))) { return; }
    button = document.getElementById(id);
    if (!button) { return; }
    if (event.preventDefault) { event.preventDefault(); } else { event.returnValue = false; }
    button.click();
  }
  if (document.addEventListener) { document.addEventListener('keydown', onKeyDown, false); }
}());
