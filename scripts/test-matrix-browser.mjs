// test-matrix-browser.mjs: load a rendered matrix.html in headless Debian chromium through
// playwright-core and check what a reader relies on: nothing is fetched from anywhere, the
// table has one column per runtime and one row per case, the category and outcome filters and
// the case search hide the right rows, sorting by a runtime puts its worst outcomes last, a
// cell opens its evidence, and there are no script errors. Saves a screenshot.
//
//   node scripts/test-matrix-browser.mjs DIR SCREENSHOT.png
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

  // Outcome filter: only rows with an escape (observed or not), within the category.
  for (const o of await page.locator("input[name=outcome]").all()) {
    if ((await o.getAttribute("value")) !== "escaped") await o.uncheck();
  }
  const escapedRows = m.cases.filter((c) => c.category === cat &&
    c.cells.some((x) => x && (x.outcome === "escaped" || x.observed === "escaped"))).length;
  check((await visible()) === escapedRows, `outcome filter: ${escapedRows} rows with an escape`);

  // Reset the filters, then search by case id.
  for (const i of await page.locator(".filters input[type=checkbox]").all()) await i.check();
  check((await visible()) === nCases, "filters reset");
  const target = m.cases[Math.floor(nCases / 2)].id;
  await page.locator("#search").fill(target);
  check((await visible()) === m.cases.filter((c) => c.id.includes(target)).length, `search for ${target}`);
  await page.locator("#search").fill("");

  // Sort by the runtime with the most non-passing cells: best first, then (second click) its
  // worst first, a known escape counting as an escape.
  const rank = ["pass", "expected-failure", "not-supported", "fail", "timeout", "crashed", "escaped", "error"];
  const sev = (x) => (x ? Math.max(rank.indexOf(x.outcome), x.observed ? rank.indexOf(x.observed) : -1) : -1);
  const worst = m.runtimes.map((_, i) => m.cases.filter((c) => c.cells[i] && c.cells[i].outcome !== "pass").length);
  const col = worst.indexOf(Math.max(...worst));
  const sevs = m.cases.map((c) => sev(c.cells[col]));
  const firstSev = async () => {
    const td = page.locator("#matrix tbody tr:first-child td.cell").nth(col);
    const o = await td.getAttribute("data-outcome"), b = await td.getAttribute("data-observed");
    return Math.max(rank.indexOf(o), b ? rank.indexOf(b) : -1);
  };
  await page.locator(`#matrix th[data-col="${col}"]`).click();
  check((await firstSev()) === Math.min(...sevs), `sorting by ${m.runtimes[col].id}: best outcome first`);
  await page.locator(`#matrix th[data-col="${col}"]`).click();
  check((await firstSev()) === Math.max(...sevs), `again: worst outcome first (${rank[Math.max(...sevs)]})`);

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
