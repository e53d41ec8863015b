// test-matrix-browser.mjs: load a rendered matrix.html in headless Debian chromium through
// playwright-core and check what a reader relies on: nothing is fetched from anywhere, the
// table has one column per runtime and one row per case, the category and outcome filters and
// the case search hide the right rows, sorting by a runtime puts its worst outcomes last, a
// cell opens its evidence, and there are no script errors. Saves a screenshot.
//
//   node scripts/test-matrix-browser.mjs DIR SCREENSHOT.png
//
// It also checks what the matrix exists for: the headline shows each runtime's observed
// escapes (most severe runtime first, reorderable by a click), and every escaped cell reads
// "Escaped", styled as an escape, known or not; no cell reads "expected failure".
//
// DIR holds matrix.html and matrix.json (the expected counts come from the JSON). Prints one
// line per check; exits 1 on the first failure. Run by tests/matrix.rs.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const here = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(path.join(here, "../.ci/tools/playwright/node_modules/"));
const { chromium } = require("playwright-core");

const [dir, shot] = process.argv.slice(2);
if (!dir || !shot) {
  console.error("usage: test-matrix-browser.mjs DIR SCREENSHOT.png");
  process.exit(2);
}
const m = JSON.parse(fs.readFileSync(path.join(dir, "matrix.json"), "utf8"));
const url = pathToFileURL(path.resolve(dir, "matrix.html")).href;

function check(ok, what) {
  if (!ok) {
    console.log(`FAIL ${what}`);
    throw new Error(what);
  }
  console.log(`ok   ${what}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  // playwright starts chromium with a new, empty profile of its own and removes it after.
});
let code = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const errors = [];
  const foreign = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (msg) => { if (msg.type() === "error") errors.push(msg.text()); });
  page.on("request", (r) => { if (r.url() !== url) foreign.push(r.url()); });
  await page.goto(url, { waitUntil: "load" });

  const nRt = m.runtimes.length, nCases = m.cases.length;
  const headers = await page.locator("#matrix thead th").count();
  check(headers === nRt + 1, `${headers} header cells = ${nRt} runtimes + the case column`);
  const rows = await page.locator("#matrix tbody tr").count();
  check(rows === nCases, `${rows} rows = ${nCases} cases`);
  const cells = await page.locator("#matrix tbody td.cell").count();
  check(cells === nRt * nCases, `${cells} cells = runtimes x cases`);
  const rtRows = await page.locator("#runtimes tbody tr").count();
  check(rtRows === nRt, `runtime table lists ${rtRows} runtimes`);
  const visible = async () => page.locator("#matrix tbody tr:visible").count();
  check((await visible()) === nCases, "every case is visible before filtering");

  // Category filter: keep one category.
  const cat = m.categories.includes("sandbox") ? "sandbox" : m.categories[0];
  for (const c of m.categories) {
    if (c !== cat) await page.locator(`input[name=category][value="${c}"]`).click();
  }
  const inCat = m.cases.filter((c) => c.category === cat).length;
  check((await visible()) === inCat, `category filter: ${inCat} ${cat} rows visible`);
  check((await page.locator("#shown").textContent()) === String(inCat), "the shown counter follows");

  // Outcome filter: only rows with an escape, within the category.
  for (const o of await page.locator("input[name=outcome]").all()) {
    if ((await o.getAttribute("value")) !== "escaped") await o.uncheck();
  }
  const escapedRows = m.cases.filter((c) => c.category === cat &&
    c.cells.some((x) => x && x.outcome === "escaped")).length;
  check((await visible()) === escapedRows, `outcome filter: ${escapedRows} rows with an escape`);

  // Reset the filters, then search by case id.
  for (const i of await page.locator(".filters input[type=checkbox]").all()) await i.check();
  check((await visible()) === nCases, "filters reset");
  const target = m.cases[Math.floor(nCases / 2)].id;
  await page.locator("#search").fill(target);
  check((await visible()) === m.cases.filter((c) => c.id.includes(target)).length, `search for ${target}`);
  await page.locator("#search").fill("");

  // Sort by the runtime with the most non-passing cells: least severe first, then (second
  // click) its most severe first. Severity is the order of the outcome vocabulary in the
  // model (most severe first), which the page carries as data-severity.
  const order = ["escaped", "crashed", "timeout", "fail", "error", "not-supported", "pass"];
  const sev = (x) => (x ? order.length - order.indexOf(x.outcome) : 0);
  const worst = m.runtimes.map((_, i) => m.cases.filter((c) => c.cells[i] && c.cells[i].outcome !== "pass").length);
  const col = worst.indexOf(Math.max(...worst));
  const sevs = m.cases.map((c) => sev(c.cells[col]));
  const firstSev = async () => {
    const td = page.locator("#matrix tbody tr:first-child td.cell").nth(col);
    return Number(await td.getAttribute("data-severity"));
  };
  await page.locator(`#matrix th[data-col="${col}"]`).click();
  check((await firstSev()) === Math.min(...sevs), `sorting by ${m.runtimes[col].id}: least severe outcome first`);
  await page.locator(`#matrix th[data-col="${col}"]`).click();
  check((await firstSev()) === Math.max(...sevs), `again: most severe outcome first (${order[order.length - Math.max(...sevs)]})`);

  // The headline: one row per runtime, most severe first, with its observed escape count.
  const hl = page.locator("#headline tbody tr");
  check((await hl.count()) === nRt, `headline lists ${nRt} runtimes`);
  const escapes = (i) => m.runtimes[i].summary.escaped || 0;
  const first = m.severity_order[0];
  check((await hl.first().getAttribute("data-runtime")) === m.runtimes[first].id,
    `headline starts with the most severe runtime (${m.runtimes[first].id})`);
  for (let i = 0; i < nRt; i++) {
    const row = page.locator(`#headline tbody tr[data-runtime="${m.runtimes[i].id}"]`);
    const n = Number(await row.locator('td[data-outcome="escaped"]').getAttribute("data-n"));
    check(n === escapes(i), `headline: ${m.runtimes[i].id} shows ${escapes(i)} escapes`);
  }
  // Reorder by passes (most first), then back by escapes.
  await page.locator('#headline th[data-col="7"]').click();
  const passes = (i) => m.runtimes[i].summary.pass || 0;
  const mostPass = Math.max(...m.runtimes.map((_, i) => passes(i)));
  const topPass = Number(await hl.first().locator('td[data-outcome="pass"]').getAttribute("data-n"));
  check(topPass === mostPass, `headline reorders by passes (${mostPass} first)`);
  await page.locator('#headline th[data-col="1"]').click();
  const mostEsc = Math.max(...m.runtimes.map((_, i) => escapes(i)));
  const topEsc = Number(await hl.first().locator('td[data-outcome="escaped"]').getAttribute("data-n"));
  check(topEsc === mostEsc, `headline reorders by escapes (${mostEsc} first)`);

  // Every escaped cell reads as an escape and is styled as the most severe state, known or
  // not; nothing reads "expected failure".
  const escapedCells = m.cases.reduce((n, c) => n + c.cells.filter((x) => x && x.outcome === "escaped").length, 0);
  const shownEscapes = page.locator("#matrix td.cell.o-escaped");
  check((await shownEscapes.count()) === escapedCells, `${escapedCells} escaped cells shown as escaped`);
  if (escapedCells > 0) {
    const e = shownEscapes.first();
    check((await e.locator("button").innerText()).startsWith("Escaped"), "an escaped cell reads Escaped");
    const bg = await e.evaluate((el) => getComputedStyle(el).backgroundColor);
    check(bg === "rgb(164, 14, 38)", `escaped cells have the escape colour (${bg})`);
  }
  const known = m.cases.reduce((n, c) => n + c.cells.filter((x) => x && x.outcome === "escaped" && x.known).length, 0);
  check((await page.locator("#matrix td.cell.o-escaped.known").count()) === known, `${known} known escapes still styled as escapes`);
  check(!(await page.content()).toLowerCase().includes("expected failure"), "no cell reads expected failure");

  // A cell opens its evidence.
  const cell = page.locator("#matrix tbody td.cell").nth(col);
  await cell.locator("button").click();
  check(await page.locator("#detail").isVisible(), "clicking a cell opens the evidence panel");
  const body = await page.locator("#detail-body").textContent();
  check(body.includes(await cell.getAttribute("data-label")), "the panel shows the outcome and evidence");
  await page.screenshot({ path: shot, fullPage: false });
  await page.keyboard.press("Escape");
  check(!(await page.locator("#detail").isVisible()), "Escape closes it");

  // Stale markers and refused bundles are shown when the model has them.
  const stale = m.runtimes.filter((r) => r.stale.length > 0).length;
  check((await page.locator("#runtimes [data-testid=stale]").count()) === stale, `${stale} stale markers`);
  check((await page.locator("#refused li").count()) === m.refused.length, `${m.refused.length} refused bundles listed`);

  check(foreign.length === 0, `no request leaves the page (${foreign.join(", ")})`);
  check(errors.length === 0, `no script errors (${errors.join("; ")})`);
  console.log(`screenshot ${shot}`);
} catch (e) {
  code = 1;
  console.log(String(e.stack || e));
} finally {
  await browser.close();
}
process.exit(code);
