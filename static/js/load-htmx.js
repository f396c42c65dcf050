/* Loads htmx where it can run, from the URL in this tag's data-htmx (a file, not inline: the
   Content-Security-Policy allows no inline script). htmx 1.9 contains `let` and needs IE11 or newer;
   IE9/10 keep the plain forms and links, which do everything.
   The test is MutationObserver: IE11 has it and IE10 does not (IE10 still has classList and FormData,
   so those alone let IE10 load htmx and fail on its first `let`). Neither `window.Symbol` nor
   `document.currentScript` would do: IE11 lacks both, so they would also turn htmx off in IE11. */
(function () {
  'use strict';
  var scripts = document.getElementsByTagName('script');
  /* While the parser runs this file, its own tag is the last one so far. */
  var me = scripts[scripts.length - 1];
  var src = me && me.getAttribute('data-htmx');
  if (src && window.MutationObserver && 'classList' in document.documentElement && window.FormData) {
    document.write('<script src="' + src.replace(/"/g, '&quot;') + '"><\/script>');
  }
}());
