/* Searched choices (kepu.core.autocomplete.AutocompleteWidget).
 *
 * <span class="autocomplete" data-autocomplete-url="/autocomplete/orgs/">
 *   <input type="hidden" name="organisation" value="12">       the submitted value
 *   <input type="search" class="autocomplete-input">           what the user types (not submitted)
 *   <ul class="autocomplete-results" role="listbox" hidden>    at most 20 matches
 * </span>
 *
 * A box with data-select="<select name>" and no hidden input instead adds the picked
 * row to that <select> of the same form and selects it (the plan preview's unit match,
 * which keeps its suggestions, "no match" and "new" options beside the search).
 *
 * Matches come as JSON ({results: [{id, label, hint}], more}) and are shown with
 * textContent only: names typed by users are never parsed as HTML. No inline script.
 */
(function () {
  "use strict";

  var DELAY = 200;

  function parts(box) {
    return {
      value: box.querySelector('input[type="hidden"]'),
      input: box.querySelector(".autocomplete-input"),
      list: box.querySelector(".autocomplete-results"),
    };
  }

  function close(box) {
    var p = parts(box);
    p.list.hidden = true;
    p.input.setAttribute("aria-expanded", "false");
    p.input.removeAttribute("aria-activedescendant");
  }

  function pickIntoSelect(box, item) {
    var p = parts(box);
    var form = box.closest("form");
    var select = form && form.querySelector('select[name="' + box.getAttribute("data-select") + '"]');
    if (!select) return;
    var id = item.getAttribute("data-id");
    var option = Array.prototype.find.call(select.options, function (o) {
      return o.value === id;
    });
    if (!option) {
      option = document.createElement("option");
      option.value = id;
      option.textContent = item.getAttribute("data-label");
      select.insertBefore(option, select.options[1] || null);
    }
    select.value = id;
    p.input.value = "";
    close(box);
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function pick(box, item) {
    var p = parts(box);
    if (!p.value) {
      pickIntoSelect(box, item);
      return;
    }
    p.value.value = item.getAttribute("data-id");
    p.input.value = item.getAttribute("data-label");
    box.setAttribute("data-label", p.input.value);
    box.setAttribute("data-value", p.value.value);
    close(box);
    p.value.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function show(box, data) {
    var p = parts(box);
    while (p.list.firstChild) p.list.removeChild(p.list.firstChild);
    data.results.forEach(function (r, i) {
      var li = document.createElement("li");
      li.id = p.input.id + "-opt-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("data-id", String(r.id));
      li.setAttribute("data-label", String(r.label));
      li.className = "autocomplete-option";
      var label = document.createElement("span");
      label.textContent = String(r.label);
      li.appendChild(label);
      if (r.hint) {
        var hint = document.createElement("small");
        hint.className = "hint";
        hint.textContent = " " + String(r.hint);
        li.appendChild(hint);
      }
      p.list.appendChild(li);
    });
    var note = null;
    if (!data.results.length) note = "没有匹配项";
    else if (data.more) note = "仅显示前 " + data.results.length + " 项, 请输入更多字缩小范围";
    if (note) {
      var li = document.createElement("li");
      li.className = "autocomplete-note hint";
      li.textContent = note;
      p.list.appendChild(li);
    }
    p.list.hidden = false;
    p.input.setAttribute("aria-expanded", "true");
  }

  function search(box) {
    var p = parts(box);
    var url = box.getAttribute("data-autocomplete-url");
    var q = p.input.value.trim();
    var seq = (box._kepuSeq || 0) + 1;
    box._kepuSeq = seq;
    fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(q), {
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" },
    })
      .then(function (resp) {
        if (!resp.ok) throw new Error(String(resp.status));
        return resp.json();
      })
      .then(function (data) {
        if (box._kepuSeq === seq) show(box, data);
      })
      .catch(function () {
        close(box);
      });
  }

  function boxOf(el) {
    return el && el.closest ? el.closest(".autocomplete") : null;
  }

  document.addEventListener("input", function (ev) {
    var box = boxOf(ev.target);
    if (!box || !ev.target.classList.contains("autocomplete-input")) return;
    var p = parts(box);
    // Typing replaces the choice; typing the chosen label again restores it.
    if (p.value)
      p.value.value =
      p.input.value === box.getAttribute("data-label") ? box.getAttribute("data-value") || "" : "";
    clearTimeout(box._kepuTimer);
    box._kepuTimer = setTimeout(function () {
      search(box);
    }, DELAY);
  });

  document.addEventListener("mousedown", function (ev) {
    var item = ev.target.closest ? ev.target.closest(".autocomplete-option") : null;
    var box = boxOf(ev.target);
    if (item && box) {
      ev.preventDefault();
      pick(box, item);
      return;
    }
    document.querySelectorAll(".autocomplete").forEach(function (b) {
      if (b !== box) close(b);
    });
  });

  document.addEventListener("keydown", function (ev) {
    var box = boxOf(ev.target);
    if (!box || !ev.target.classList.contains("autocomplete-input")) return;
    var p = parts(box);
    var items = Array.prototype.slice.call(p.list.querySelectorAll(".autocomplete-option"));
    var current = p.list.querySelector(".autocomplete-option.active");
    var i = items.indexOf(current);
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (p.list.hidden) {
        search(box);
        return;
      }
      if (!items.length) return;
      if (current) current.classList.remove("active");
      i = ev.key === "ArrowDown" ? (i + 1) % items.length : (i - 1 + items.length) % items.length;
      items[i].classList.add("active");
      p.input.setAttribute("aria-activedescendant", items[i].id);
    } else if (ev.key === "Enter" && !p.list.hidden && current) {
      ev.preventDefault();
      pick(box, current);
    } else if (ev.key === "Escape") {
      close(box);
    }
  });
})();
