// The matrix page's behaviour: filters, sorting by severity, the evidence panel. Severity is
// read from each cell's data-severity (written by the renderer from the outcome vocabulary),
// so this file holds no list of outcomes.
(function () {
  const table = document.getElementById('matrix');
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  function severity(td) { return Number(td.dataset.severity); }
  function checked(name) {
    return new Set(Array.from(document.querySelectorAll('input[name="' + name + '"]:checked'))
      .map(function (i) { return i.value; }));
  }
  function applyFilters() {
    const cats = checked('category');
    const outs = checked('outcome');
    const q = document.getElementById('search').value.trim().toLowerCase();
    let shown = 0;
    rows.forEach(function (r) {
      const cells = Array.from(r.querySelectorAll('td.cell'));
      const hasOutcome = cells.some(function (c) { return outs.has(c.dataset.outcome); });
      const ok = cats.has(r.dataset.category) && hasOutcome &&
        (q === '' || r.dataset.case.toLowerCase().indexOf(q) >= 0);
      r.hidden = !ok;
      if (ok) shown++;
    });
    document.getElementById('shown').textContent = String(shown);
  }
  document.querySelectorAll('.filters input').forEach(function (i) {
    i.addEventListener('input', applyFilters);
    i.addEventListener('change', applyFilters);
  });
  // Matrix columns: the first click puts a runtime's least severe outcomes first, the second
  // its most severe.
  let sortCol = null, sortDir = 1;
  document.querySelectorAll('#matrix th.sortable').forEach(function (th) {
    th.addEventListener('click', function () {
      const col = Number(th.dataset.col);
      sortDir = sortCol === col ? -sortDir : 1;
      sortCol = col;
      document.querySelectorAll('#matrix th.sortable').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
      rows.sort(function (a, b) {
        let x, y;
        if (col < 0) { x = a.dataset.case; y = b.dataset.case; }
        else {
          x = severity(a.cells[col + 1]); y = severity(b.cells[col + 1]);
          if (x === y) { x = a.dataset.case; y = b.dataset.case; return (x < y ? -1 : x > y ? 1 : 0); }
        }
        return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  // The headline: rows start most severe first; a click on a count column orders the
  // runtimes by it (most first, then least first).
  const hl = document.getElementById('headline');
  const hlBody = hl.tBodies[0];
  const hlRows = Array.from(hlBody.rows);
  let hlCol = null, hlDir = -1;
  hl.querySelectorAll('th.sortable').forEach(function (th) {
    th.addEventListener('click', function () {
      const col = Number(th.dataset.col);
      hlDir = hlCol === col ? -hlDir : -1;
      hlCol = col;
      hl.querySelectorAll('th.sortable').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', hlDir > 0 ? 'ascending' : 'descending');
      hlRows.sort(function (a, b) {
        const x = Number(a.cells[col].dataset.n), y = Number(b.cells[col].dataset.n);
        if (x !== y) return (x - y) * hlDir;
        return Number(a.dataset.rank) - Number(b.dataset.rank);
      });
      hlRows.forEach(function (r) { hlBody.appendChild(r); });
    });
  });
  const detail = document.getElementById('detail');
  body.addEventListener('click', function (e) {
    const b = e.target.closest('td.cell button');
    if (!b) return;
    const td = b.parentElement;
    document.getElementById('detail-title').textContent = td.dataset.runtime + ' — ' + td.parentElement.dataset.case;
    document.getElementById('detail-outcome').textContent = td.dataset.label;
    document.getElementById('detail-body').textContent = td.title;
    detail.classList.add('open');
  });
  document.getElementById('detail-close').addEventListener('click', function () { detail.classList.remove('open'); });
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') detail.classList.remove('open'); });
  applyFilters();
})();
