/**
 * The live page in headless Chromium (Debian's `chromium`, driven by playwright-core): submit a text
 * through the page and see its entities highlighted. A stand-in plays the processor (issue 6) until
 * it is wired in here. The screenshot goes to test-output/ (git-ignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repoRoot } from './harness';
import { startGateway, startStandInProcessor, type TestGateway } from './gateway-helpers';

const executablePath = '/usr/bin/chromium';
const outDir = join(repoRoot, 'test-output');

describe('gateway: the live page in a browser', () => {
  let gw: TestGateway;
  let processor: Awaited<ReturnType<typeof startStandInProcessor>>;
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(executablePath))
      throw new Error(`${executablePath} is missing: run scripts/install-tools.sh as root (apt-get install chromium)`);
    gw = await startGateway('gw-page');
    processor = await startStandInProcessor(gw.config);
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await processor?.stop();
    await gw?.stop();
  });

  it('submits a text through the page and shows its entities highlighted and its sentiment', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    await page.goto(gw.http + '/');
    await page.fill('#token', gw.token(['submit', 'subscribe']));
    await page.click('#connect');
    await page.waitForSelector('#status.on', { timeout: 30_000 });
    const text = 'Ada Lovelace worked with Charles Babbage in London.';
    await page.fill('#text', text);
    await page.click('#send');

    const card = page.locator('article.card').first();
    await card.locator('mark.entity').nth(2).waitFor({ timeout: 30_000 });
    await card.locator('.label').waitFor({ timeout: 30_000 });
    const marks = await card
      .locator('mark.entity')
      .evaluateAll((nodes) => nodes.map((n) => ({ text: n.textContent, label: n.getAttribute('data-label') })));
    expect(marks).toEqual([
      { text: 'Ada Lovelace', label: 'PER' },
      { text: 'Charles Babbage', label: 'PER' },
      { text: 'London', label: 'LOC' },
    ]);
    // The highlighted text reads exactly as the submitted one.
    expect(await card.locator('.text').textContent()).toBe(text);
    expect(await card.locator('.label').textContent()).toBe('positive');
    expect(processor.seen.map((e) => e.text)).toContain(text);

    // Answers are marked inside their context.
    await page.check('#tasks input[value="answers"]');
    await page.fill('#question', 'Where did Ada work?');
    await page.fill('#text', 'Ada Lovelace worked in London.');
    await page.click('#send');
    await page.locator('article.card').first().locator('mark.answer').waitFor({ timeout: 30_000 });
    expect(await page.locator('article.card').first().locator('mark.answer').textContent()).toBe('London');

    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: join(outDir, 'gateway-live-page.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it('shows why a wrong token was refused', async () => {
    const page = await browser.newPage();
    await page.goto(gw.http + '/');
    await page.fill('#token', 'trd_000000000000_' + 'A'.repeat(43));
    await page.click('#connect');
    await page.locator('#status', { hasText: 'token refused' }).waitFor({ timeout: 30_000 });
    expect(await page.isDisabled('#send')).toBe(true);
  });
});
