/* Qumulus console: small progressive enhancements over server-rendered pages (no build step).
   Every page works without this file; with it: times in the reader's own time zone, Copy buttons,
   a confirmation before destructive forms, sortable tables, reading an uploaded circuit into the
   form, and keeping a refused submission's draft. Re-applied to content htmx swaps in. */
(function () {
  "use strict";

  var zone = (Intl.DateTimeFormat().resolvedOptions().timeZone) || "";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function zoneName(date) {
    try {
      var parts = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(date);
      for (var i = 0; i < parts.length; i++) if (parts[i].type === "timeZoneName") return parts[i].value;
    } catch (e) { /* old browser: no zone name */ }
    return "";
  }

  /* <time datetime="…" data-style="datetime|minute|date"> in UTC → the reader's zone, named. */
  function localizeTimes(root) {
    root.querySelectorAll("time[datetime][data-style]").forEach(function (el) {
      if (el.dataset.local) return;
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      var style = el.dataset.style;
      var text = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
      if (style !== "date") {
        text += " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
        if (style === "datetime") text += ":" + pad(d.getSeconds());
        text += " " + zoneName(d);
      }
      el.title = el.textContent;  /* the UTC original stays on hover */
      el.textContent = text;
      el.dataset.local = "1";
    });
    root.querySelectorAll("[data-tz-note]").forEach(function (el) {
      el.textContent = "Times are in your time zone (" + zone + "); hover a time for UTC.";
    });
  }

  /* <button data-copy="input-id">: copy the input's value, say so. */
  function copyFrom(button) {
    var field = document.getElementById(button.dataset.copy);
    if (!field) return;
    var done = function () {
      button.textContent = "Copied";
      var status = document.getElementById(button.dataset.copy + "-copied");
      if (status) status.textContent = "Copied to the clipboard.";
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
    } else {
      field.select();
      try { if (document.execCommand("copy")) done(); } catch (e) { /* selected for the user */ }
    }
  }

  /* <form data-confirm="…">: ask first; the server asks again (a page) for a form sent unconfirmed. */
  function confirmSubmit(event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-confirm]")) return;
    if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); return; }
    var flag = form.querySelector("input[name=confirmed]");
    if (flag) flag.value = "yes";
  }

  /* <table class="sortable">: header buttons sort by each cell's data-sort (else its text). */
  function sortable(root) {
    root.querySelectorAll("table.sortable").forEach(function (table) {
      if (table.dataset.sortReady) return;
      table.dataset.sortReady = "1";
      table.querySelectorAll("thead th").forEach(function (th, col) {
        if (th.hasAttribute("data-nosort")) return;
        var button = document.createElement("button");
        button.type = "button";
        button.className = "sort";
        while (th.firstChild) button.appendChild(th.firstChild);
        th.appendChild(button);
        button.addEventListener("click", function () { sortBy(table, th, col); });
      });
    });
  }

  function sortBy(table, th, col) {
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var key = function (row) {
      var cell = row.cells[col];
      if (!cell) return "";
      var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
      var num = parseFloat(raw);
      return raw !== "" && !isNaN(num) && /^-?[\d.e+-]+$/i.test(raw) ? num : raw.toLowerCase();
    };
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === y) return 0;
      if (x === "") return 1;
      if (y === "") return -1;
      var less = (typeof x === typeof y) ? x < y : String(x) < String(y);
      return (less ? -1 : 1) * (ascending ? 1 : -1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  /* The submit form: an uploaded file is read into the source box (and previewed). */
  function readUpload(input) {
    var file = input.files && input.files[0];
    var source = document.getElementById("source");
    if (!file || !source) return;
    var reader = new FileReader();
    reader.onload = function () {
      source.value = reader.result;
      var qasm = /\.qasm\d?$/i.test(file.name) || /^\s*OPENQASM/i.test(reader.result);
      var radio = document.querySelector("input[name=format][value=" + (qasm ? "openqasm" : "ionq") + "]");
      if (radio) radio.checked = true;
      input.value = "";  /* the text box now holds it: nothing to upload twice */
      source.dispatchEvent(new Event("change", { bubbles: true }));
    };
    reader.readAsText(file);
  }

  /* A refused submission comes back to the form: restore the draft the browser kept. */
  function drafts(root) {
    var form = root.querySelector("form[data-draft]");
    if (!form) return;
    var key = "qumulus-draft-" + form.dataset.draft;
    if (root.querySelector("[data-restore-draft]")) {
      try {
        var saved = JSON.parse(sessionStorage.getItem(key) || "null");
        if (saved) Object.keys(saved).forEach(function (name) {
          var fields = form.querySelectorAll("[name='" + name + "']");
          fields.forEach(function (f) {
            if (f.type === "radio") f.checked = (f.value === saved[name]);
            else if (f.type !== "file" && f.type !== "hidden") f.value = saved[name];
          });
        });
      } catch (e) { /* no storage: the server's copy of the draft stands */ }
    }
    form.addEventListener("submit", function () {
      var data = {};
      new FormData(form).forEach(function (v, k) { if (typeof v === "string" && k !== "csrf_token") data[k] = v; });
      try { sessionStorage.setItem(key, JSON.stringify(data)); } catch (e) { /* full or off */ }
    });
  }

  function enhance(root) {
    localizeTimes(root);
    sortable(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    drafts(document);
    document.addEventListener("submit", confirmSubmit, true);
    document.addEventListener("click", function (e) {
      var button = e.target.closest && e.target.closest("button[data-copy]");
      if (button) copyFrom(button);
    });
    document.addEventListener("change", function (e) {
      if (e.target.id === "upload") readUpload(e.target);
    });
  });
  document.addEventListener("htmx:load", function (e) { enhance(e.detail.elt); });
})();
