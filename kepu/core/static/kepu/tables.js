/* Tables as cards on phones (kepu.css, max-width 640px).
 *
 * Every table.grid shows one card per row on a narrow screen; each cell then needs its
 * column's name. This copies the header text of the column (colspans counted) into the
 * cell's data-label, unless the template already wrote one, and marks cells with nothing
 * in them (cell-empty) so a card does not show a label with no value. A cell spanning
 * the whole row (an "empty list" message) gets no label. A table of three columns or
 * fewer fits a phone as it is and stays a table (class keep-table), unless the template
 * marks it cards-on-phone.
 *
 * Runs on page load and on content htmx swaps in; other scripts that build a table can
 * call Kepu.labelTables(element). Header text is read and written with textContent and
 * setAttribute only: nothing is parsed as HTML. No inline script.
 */
(function () {
  "use strict";

  var FEW_COLUMNS = 3;

  function headerLabels(table) {
    var row = table.tHead && table.tHead.rows.length ? table.tHead.rows[table.tHead.rows.length - 1] : null;
    if (!row) return null;
    var labels = [];
    for (var i = 0; i < row.cells.length; i++) {
      var cell = row.cells[i];
      var text = cell.getAttribute("data-label");
      if (text === null) text = (cell.textContent || "").replace(/\s+/g, " ").trim();
      for (var span = cell.colSpan || 1; span > 0; span--) labels.push(text);
    }
    return labels;
  }

  function isEmpty(cell) {
    if ((cell.textContent || "").trim() !== "") return false;
    return !cell.querySelector("input, select, textarea, button, img, svg, canvas, a, .light");
  }

  function labelTable(table) {
    var labels = headerLabels(table);
    var bodies = table.tBodies;
    for (var b = 0; b < bodies.length; b++) {
      var rows = bodies[b].rows;
      for (var r = 0; r < rows.length; r++) {
        var col = 0;
        var cells = rows[r].cells;
        for (var c = 0; c < cells.length; c++) {
          var cell = cells[c];
          var span = cell.colSpan || 1;
          if (labels && !cell.hasAttribute("data-label") && span < labels.length && labels[col]) {
            cell.setAttribute("data-label", labels[col]);
          }
          cell.classList.toggle("cell-empty", isEmpty(cell));
          col += span;
        }
      }
    }
    // Three columns or fewer fit a phone as they are: such a table stays a table
    // (it scrolls inside itself if it must), unless the template asks for cards.
    if (labels && labels.length <= FEW_COLUMNS && !table.classList.contains("cards-on-phone")) {
      table.classList.add("keep-table");
    }
    table.setAttribute("data-labelled", "1");
  }

  function labelTables(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("table.grid")) {
      labelTable(scope);
      return;
    }
    var tables = scope.querySelectorAll("table.grid");
    for (var i = 0; i < tables.length; i++) labelTable(tables[i]);
    if (scope !== document && scope.closest) {
      var outer = scope.closest("table.grid");
      if (outer) labelTable(outer);
    }
  }

  window.Kepu = window.Kepu || {};
  window.Kepu.labelTables = labelTables;

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { labelTables(document); });
  } else {
    labelTables(document);
  }
  document.addEventListener("htmx:load", function (event) { labelTables(event.target); });
})();
