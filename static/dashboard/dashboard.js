/* Operations dashboard: live progress of running exchanges (polls the JSON endpoint every 2 s, no page
   reload) and the plots' biller picker. No dependencies. */
(function () {
  "use strict";

  function text(row, selector, value) {
    const cell = row.querySelector(selector);
    if (cell) { cell.textContent = value; }
  }

  function cell(tr, value, className) {
    const td = document.createElement("td");
    if (className) { td.className = className; }
    if (value instanceof Node) { td.appendChild(value); } else { td.textContent = value; }
    tr.appendChild(td);
    return td;
  }

  function newRow(x) {
    const tr = document.createElement("tr");
    tr.dataset.id = String(x.id);
    const link = document.createElement("a");
    link.href = x.url;
    link.textContent = "#" + x.id;
    cell(tr, link);
    cell(tr, x.biller);
    cell(tr, x.kind);
    cell(tr, x.file_name, "x-file");
    cell(tr, x.status, "x-status");
    const bar = document.createElement("div");
    bar.className = "ops-bar";
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.appendChild(document.createElement("span"));
    cell(tr, bar);
    cell(tr, "", "num x-rows");
    cell(tr, "", "num x-rate");
    cell(tr, "", "num x-left");
    return tr;
  }

  function show(box, data) {
    const body = box.querySelector("tbody");
    const none = body.querySelector(".ops-none");
    for (const x of data.exchanges) {
      let tr = body.querySelector('tr[data-id="' + x.id + '"]');
      if (!tr) {
        tr = newRow(x);
        body.insertBefore(tr, none);
      }
      tr.className = "ops-x status-" + x.status;
      tr.dataset.finished = x.finished ? "1" : "0";
      text(tr, ".x-status", x.status);
      text(tr, ".x-rows", x.rows_text);
      text(tr, ".x-rate", x.rate_text);
      text(tr, ".x-left", x.left_text);
      const percent = x.percent === null ? 0 : x.percent;
      const bar = tr.querySelector(".ops-bar");
      bar.setAttribute("aria-valuenow", String(percent));
      bar.firstElementChild.style.width = percent + "%";
    }
    if (none) { none.hidden = body.querySelectorAll("tr[data-id]").length > 0; }
  }

  function watch(box) {
    const every = parseInt(box.dataset.poll, 10) || 2000;
    function poll() {
      const ids = Array.from(box.querySelectorAll('tr[data-id][data-finished="0"]')).map(tr => tr.dataset.id);
      const url = box.dataset.url + (ids.length ? "?ids=" + ids.join(",") : "");
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(r => { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
        .then(data => { show(box, data); setTimeout(poll, every); })
        .catch(() => setTimeout(poll, every * 5));
    }
    setTimeout(poll, every);
  }

  function start() {
    const box = document.getElementById("ops-running");
    if (box && box.dataset.url) { watch(box); }
    document.querySelectorAll("select[data-autosubmit]").forEach(select => {
      select.addEventListener("change", () => select.form.submit());
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
