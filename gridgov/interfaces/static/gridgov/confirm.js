/* Forms with data-confirm ask before they are sent (no inline handlers: the CSP allows no inline script). */
document.addEventListener("submit", function (ev) {
  var text = ev.target && ev.target.getAttribute && ev.target.getAttribute("data-confirm");
  if (text && !window.confirm(text)) { ev.preventDefault(); }
}, true);
