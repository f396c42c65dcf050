/* Loads htmx where it can run, from the URL in this tag's data-htmx (a file, not inline: the
   Content-Security-Policy allows no inline script). htmx 1.9 needs IE11 or newer; IE9/10 keep the
   plain forms and links, which do everything. */
(function () {
  'use strict';
  var scripts = document.getElementsByTagName('script');
  /* While the parser runs this file, its own tag is the last one so far. */
  var me = scripts[scripts.length - 1];
  var src = me && me.getAttribute('data-htmx');
  if (src && 'classList' in document.documentElement && window.FormData) {
    document.write('<script src="' + src.replace(/"/g, '&quot;') + '"><\/script>');
  }
}());
