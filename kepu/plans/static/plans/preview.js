/* Plan preview: "采纳 N 分及以上的近似建议".
 *
 * For every unit row still set to "— 不关联 —", selects its best fuzzy suggestion when
 * that suggestion scores at least N (the options carry data-how and data-score). It never
 * ticks "添加为别名" (learning an alias stays a deliberate choice) and never changes a row
 * the user has already decided. Reports how many rows it filled. No inline script.
 */
(function () {
  "use strict";

  function bestFuzzy(select) {
    var best = null;
    Array.prototype.forEach.call(select.querySelectorAll('option[data-how="fuzzy"]'), function (o) {
      var score = parseFloat(o.getAttribute("data-score"));
      if (!isNaN(score) && (best === null || score > best.score)) best = { option: o, score: score };
    });
    return best;
  }

  function acceptAbove(form, min) {
    var count = 0;
    Array.prototype.forEach.call(form.querySelectorAll("tr.unit-row select.org-select"), function (select) {
      if (select.value !== "") return;
      var best = bestFuzzy(select);
      if (best && best.score >= min) {
        select.value = best.option.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
        count += 1;
      }
    });
    return count;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("accept-above");
    var input = document.getElementById("accept-min");
    var result = document.getElementById("accept-result");
    var form = document.getElementById("preview-form");
    if (!button || !input || !form) return;
    button.addEventListener("click", function () {
      var min = parseFloat(input.value);
      if (isNaN(min) || min < 60 || min > 100) {
        result.textContent = "请输入 60 到 100 之间的分数。";
        return;
      }
      var n = acceptAbove(form, min);
      result.textContent = n
        ? "已采纳 " + n + " 条 " + min + " 分及以上的建议 (未添加别名), 确认导入前仍可逐条修改。"
        : "没有尚未处理、且得分在 " + min + " 分及以上的建议。";
    });
  });
})();
