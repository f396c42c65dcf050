/* Checks the chosen files against the limits in each file box's data-* attributes (web.upload_limits) before
   the form is sent: a request over the server's limit is refused whole (413), and everything typed would be
   lost. The message appears next to the file box; the form stays as it is. Browsers without the File API
   (IE9) send the form, and the server's 413 page explains instead. */
(function () {
  'use strict';
  var MB = 1024 * 1024;
  /* Room for the typed fields that travel with the files. */
  var FORM_ALLOWANCE = 64 * 1024;

  if (!document.addEventListener) { return; }

  function fill(template, values) {
    return (template || '').replace(/\{(\w+)\}/g, function (whole, key) {
      return values.hasOwnProperty(key) ? values[key] : whole;
    });
  }

  function number(input, name) {
    return parseInt(input.getAttribute(name), 10);
  }

  function boxesOf(form) {
    var inputs = form.getElementsByTagName('input'), boxes = [], i;
    for (i = 0; i < inputs.length; i++) {
      if (inputs[i].type === 'file' && inputs[i].getAttribute('data-max-file-bytes') && inputs[i].files) {
        boxes.push(inputs[i]);
      }
    }
    return boxes;
  }

  /* The problem with one box's files, or ''. */
  function problemOf(input) {
    var files = input.files, limit = number(input, 'data-max-file-bytes'), names = [], i;
    if (files.length > number(input, 'data-max-files')) {
      for (i = 0; i < files.length; i++) { names.push(files[i].name); }
      return fill(input.getAttribute('data-too-many'), { n: files.length, names: names.join('、') });
    }
    for (i = 0; i < files.length; i++) {
      if (files[i].size > limit) {
        return fill(input.getAttribute('data-too-big'), { name: files[i].name, size: (files[i].size / MB).toFixed(1) });
      }
    }
    return '';
  }

  function show(input, text) {
    var id = (input.id || input.name) + '-upload-error', box = document.getElementById(id);
    if (!text) {
      if (box) { box.parentNode.removeChild(box); }
      return;
    }
    if (!box) {
      box = document.createElement('span');
      box.id = id;
      box.className = 'error upload-error';
      box.setAttribute('role', 'alert');
      input.parentNode.insertBefore(box, input.nextSibling);
    }
    box.textContent = text;
  }

  /* Show each box's problem; return the first box with one, or null. */
  function check(form) {
    var boxes = boxesOf(form), first = null, total = 0, last = null, problem, i, j;
    for (i = 0; i < boxes.length; i++) {
      problem = problemOf(boxes[i]);
      show(boxes[i], problem);
      if (problem && !first) { first = boxes[i]; }
      for (j = 0; j < boxes[i].files.length; j++) { total += boxes[i].files[j].size; }
      if (boxes[i].files.length) { last = boxes[i]; }
    }
    if (!first && last && total + FORM_ALLOWANCE > number(last, 'data-max-request-bytes')) {
      show(last, fill(last.getAttribute('data-too-much'), { size: (total / MB).toFixed(1) }));
      first = last;
    }
    return first;
  }

  document.addEventListener('change', function (event) {
    var el = event.target;
    if (el && el.type === 'file' && el.form && el.getAttribute('data-max-file-bytes')) { check(el.form); }
  }, false);

  /* Capture phase: runs before htmx or any other submit handler on the form itself. */
  document.addEventListener('submit', function (event) {
    var form = event.target, offending = form && form.tagName === 'FORM' ? check(form) : null;
    if (offending) {
      event.preventDefault();
      event.stopPropagation();
      offending.focus();
    }
  }, true);
}());
