// The top bar's menus work without this file (<details>, and 菜单 is a link to #menu). With it, an open
// menu also closes on a click elsewhere or on Escape, which puts the focus back on its name.
(function () {
  "use strict";
  function openMenus() {
    return document.querySelectorAll(".topbar details[open]");
  }
  document.addEventListener("click", function (event) {
    openMenus().forEach(function (d) {
      if (!d.contains(event.target)) { d.open = false; }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    openMenus().forEach(function (d) {
      d.open = false;
      var summary = d.querySelector("summary");
      if (summary && d.contains(document.activeElement)) { summary.focus(); }
    });
  });
})();
