// codex-db studio: small helpers for the rows grid. Every page works without this file;
// it is served by the studio itself (script-src 'self') and uses no inline code.
//
// - the column picker's choice is remembered per table (localStorage of this run's origin);
// - the first shown column sits right after the row links, whatever their width;
// - "/" focuses the filter, the left and right arrow keys follow the page links;
// - in --write mode, a double click on a cell edits it: the form posts to the same
//   preview page as the row page's form, so nothing changes before "run it".
"use strict";
(function () {
  var COLUMNS = "codex-db-studio:columns:";

  function storage() {
    try {
      return window.localStorage;
    } catch (err) {
      return null;
    }
  }

  // With col= in the URL: remember it (all blank: forget). Without: apply what was remembered.
  function rememberColumns() {
    var picker = document.querySelector("form.columns[data-table]");
    var store = storage();
    if (!picker || !store) return false;
    var key = COLUMNS + picker.getAttribute("data-table");
    var params = new URLSearchParams(location.search);
    if (params.has("col")) {
      var chosen = params.getAll("col").filter(Boolean);
      if (chosen.length) store.setItem(key, JSON.stringify(chosen));
      else store.removeItem(key);
      return false;
    }
    var saved;
    try {
      saved = JSON.parse(store.getItem(key) || "[]");
    } catch (err) {
      saved = [];
    }
    var known = {};
    picker.querySelectorAll("input[name=col]").forEach(function (box) {
      known[box.value] = true;
    });
    saved = saved.filter(function (name) {
      return known[name];
    });
    if (!saved.length) return false;
    saved.forEach(function (name) {
      params.append("col", name);
    });
    location.replace(location.pathname + "?" + params.toString());
    return true;
  }

  function pinSecondColumn() {
    document.querySelectorAll("table.rows").forEach(function (table) {
      var first = table.querySelector("th.open");
      if (!first) return;
      var left = first.getBoundingClientRect().width + "px";
      table.querySelectorAll(".pin2").forEach(function (cell) {
        cell.style.left = left;
      });
    });
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || tag === "BUTTON" ||
      (target && target.isContentEditable);
  }

  function onKey(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
    if (ev.key === "/") {
      var fields = document.querySelectorAll("form.filters input[name=fv]");
      if (fields.length) {
        ev.preventDefault();
        fields[fields.length - 1].focus();
      }
    } else if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
      var rel = ev.key === "ArrowRight" ? "next" : "prev";
      var page = document.querySelector("nav.pager a[rel=" + rel + "]");
      if (page) {
        ev.preventDefault();
        location.href = page.href;
      }
    }
  }

  function hidden(form, name, value) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }

  function editCell(td) {
    var table = td.closest("table.rows[data-edit]");
    if (!table || td.classList.contains("editing")) return;
    var column = td.getAttribute("data-col");
    var value = td.getAttribute("data-v") || "";
    var form = document.createElement("form");
    form.method = "post";
    form.action = table.getAttribute("data-edit");
    form.className = "cell-edit";
    hidden(form, "csrf", table.getAttribute("data-csrf"));
    hidden(form, "action", "update");
    JSON.parse(td.parentNode.getAttribute("data-k")).forEach(function (key) {
      hidden(form, "k", key);
    });
    hidden(form, "back", location.pathname + location.search);
    var field = document.createElement(value.indexOf("\n") >= 0 ? "textarea" : "input");
    field.name = "v." + column;
    field.value = value;
    if (field.tagName === "INPUT") field.size = Math.min(Math.max(value.length + 2, 12), 48);
    var label = document.createElement("label");
    var empty = document.createElement("input");
    empty.type = "checkbox";
    empty.name = "n." + column;
    empty.value = "1";
    empty.checked = td.hasAttribute("data-null");
    label.appendChild(empty);
    label.appendChild(document.createTextNode(" null"));
    field.addEventListener("input", function () {
      empty.checked = false;
    });
    var review = document.createElement("button");
    review.textContent = "review update…";
    form.appendChild(field);
    form.appendChild(label);
    form.appendChild(review);
    var before = Array.prototype.slice.call(td.childNodes);
    td.textContent = "";
    td.appendChild(form);
    td.classList.add("editing");
    form.addEventListener("keydown", function (ev) {
      if (ev.key !== "Escape") return;
      td.textContent = "";
      before.forEach(function (node) {
        td.appendChild(node);
      });
      td.classList.remove("editing");
    });
    field.focus();
    field.select();
    td.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  function onDoubleClick(ev) {
    var td = ev.target.closest && ev.target.closest("td[data-col]");
    if (td && !typing(ev.target)) {
      ev.preventDefault();
      editCell(td);
    }
  }

  if (rememberColumns()) return;
  pinSecondColumn();
  document.addEventListener("keydown", onKey);
  document.addEventListener("dblclick", onDoubleClick);
})();
