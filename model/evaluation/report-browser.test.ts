/**
 * report.html in headless Chromium (Debian's `chromium`, driven by playwright-core): it renders
 * without console errors or any network request, and every chart has content. The screenshot goes
 * to test-output/evaluation-report.png (git-ignored).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { evaluateFile } from './cli';
import { renderReportHtml } from './html';
import type { Report } from './run';

const ROOT = path.resolve(__dirname, '../..');
const executablePath = '/usr/bin/chromium';

describe('report.html in a browser', () => {
  let browser: Browser;
  let dir: string;
  let report: Report;
  beforeAll(async () => {
    if (!existsSync(executablePath))
      throw new Error(`${executablePath} is missing: run scripts/install-tools.sh as root (apt-get install chromium)`);
    dir = mkdtempSync(path.join(os.tmpdir(), 'trident-report-'));
    report = await evaluateFile({
      file: path.join(__dirname, 'fixtures', 'labeled.jsonl'),
      models: [path.join(ROOT, 'model', 'test-artifact'), path.join(ROOT, 'model', 'artifacts', 'trident-multitask-1.1.0')],
      out: dir,
    });
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(file: string) {
    const page = await browser.newPage({ viewport: { width: 1240, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);
    return { page, problems, requests };
  }

  it('renders every section with content, no console errors and no network', async () => {
    const { page, problems, requests } = await open(path.join(dir, 'report.html'));
    expect(problems).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    for (const id of ['headline', 'confusion', 'entities', 'reliability', 'ab', 'disagreements', 'drift'])
      expect(await page.locator(`#${id}`).count()).toBe(1);
    // Headline: one column per model, the runtime rows included.
    expect(await page.locator('table.headline thead th').allInnerTexts()).toEqual(['task', 'metric', '0.0.1', '1.1.0']);
    // Charts have content: cells, bars, reliability bars, interval points.
    const count = (selector: string) => page.locator(selector).count();
    expect(await count('svg.confusion rect')).toBeGreaterThanOrEqual(2 * 2 * 4); // two models × sentiment + categories
    expect(await count('svg.bars rect')).toBeGreaterThanOrEqual(2 * 2);
    expect(await count('svg.reliability rect')).toBeGreaterThan(2 * 4);
    expect(await count('svg.forest circle')).toBe(Object.keys(report.ab!).length);
    expect(await count('#disagreements ~ table tbody tr')).toBeGreaterThan(0);
    const box = await page.locator('svg.confusion').first().boundingBox();
    expect(box!.width).toBeGreaterThan(100);
    mkdirSync(path.join(ROOT, 'test-output'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test-output', 'evaluation-report.png'), fullPage: true });
    await page.close();
  });

  it('marks a partial report and survives empty sections', async () => {
    const partial: Report = {
      ...report,
      partial: true,
      partial_reason: 'interrupted (SIGINT) after 3 of 10 events',
      models: { '0.0.1': {} },
      ab: null,
      disagreements: [],
    };
    const file = path.join(dir, 'partial.html');
    writeFileSync(file, renderReportHtml(partial));
    const { page, problems } = await open(file);
    expect(problems).toEqual([]);
    expect(await page.locator('#partial').innerText()).toContain('interrupted (SIGINT) after 3 of 10 events');
    expect(readFileSync(file, 'utf8')).not.toMatch(/<script/);
    await page.close();
  });
});
