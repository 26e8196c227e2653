/**
 * The live page in headless Chromium (Debian's `chromium`, driven by playwright-core): submit a text
 * through the page and see its entities highlighted; correct a result and find the correction on the
 * feedback topic. A stand-in plays the processor (issue 6) until it is wired in here. The
 * screenshots go to test-output/ (git-ignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Locator } from 'playwright-core';
import type { FeedbackEvent } from '../../schemas/generated/feedback';
import { repoRoot } from './harness';
import { startGateway, startStandInProcessor, type TestGateway } from './gateway-helpers';
import { readTopic } from './processor-harness';

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
    // Without the feedback scope the page offers no corrections.
    expect(await card.locator('.corrections').isHidden()).toBe(true);

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

  it('corrects a sentiment label and adds an entity span by selecting text; both arrive on the feedback topic', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    const { token, record } = gw.tokens.create(['submit', 'subscribe', 'feedback'], 'page-reviewer', 'acme');
    await page.goto(gw.http + '/');
    await page.fill('#token', token);
    await page.click('#connect');
    await page.waitForSelector('#status.on', { timeout: 30_000 });
    const text = 'Ada Lovelace worked with Charles Babbage in London on the analytical engine.';
    await page.fill('#text', text);
    await page.click('#send');
    const card = page.locator('article.card').first();
    await card.locator('.label').waitFor({ timeout: 30_000 });
    await card.locator('mark.entity').nth(2).waitFor({ timeout: 30_000 });
    const id = await card.getAttribute('data-id');
    expect(id).toBeTruthy();
    expect(await card.locator('.corrections').isVisible()).toBe(true);

    // Sentiment: choose the other label and send.
    const sentiment = card.locator('details.editor[data-task="sentiment"]');
    await sentiment.locator('summary').click();
    await sentiment.locator('select').selectOption('negative');
    await sentiment.locator('button.send-correction').click();
    await expectAccepted(sentiment);

    // Entities: select "analytical engine" in the displayed text, add it as MISC, send.
    const entities = card.locator('details.editor[data-task="entities"]');
    await entities.locator('summary').click();
    expect(await entities.locator('button.add-span').isDisabled()).toBe(true);
    // As a user's drag would: a DOM selection over the words (the test's TS has no DOM types, hence a function from source).
    const selectWords = new Function(
      'body',
      'word',
      `const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const at = n.data.indexOf(word);
        if (at < 0) continue;
        const range = document.createRange();
        range.setStart(n, at);
        range.setEnd(n, at + word.length);
        document.getSelection().removeAllRanges();
        document.getSelection().addRange(range);
        return true;
      }
      return false;`,
    ) as (body: unknown, word: string) => boolean;
    const selected = await card.locator('.text').evaluate(selectWords, 'analytical engine');
    expect(selected).toBe(true);
    const start = text.indexOf('analytical engine');
    await entities.locator('.sel', { hasText: `“analytical engine” ${start}–${start + 17}` }).waitFor({ timeout: 10_000 });
    await entities.locator('select.add-label').selectOption('MISC');
    await entities.locator('button.add-span').click();
    expect(await card.locator('mark.entity[data-label="MISC"]').textContent()).toBe('analytical engine');
    await entities.locator('button.send-correction').click();
    await expectAccepted(entities);

    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: join(outDir, 'gateway-live-page-feedback.png'), fullPage: true });
    expect(problems).toEqual([]);

    const events = await readTopic<FeedbackEvent>(gw.config, 'feedback', 2, { settleMs: 2000, timeoutMs: 60_000 });
    const source = `gateway:acme/${record.name}`;
    expect(events.find((e) => e.task === 'sentiment')).toMatchObject({ id, text, label: 'negative', source, modelVersion: 'test' });
    expect(events.find((e) => e.task === 'entities')).toMatchObject({
      id,
      text,
      source,
      modelVersion: 'test',
      entities: [
        { label: 'PER', start: 0, end: 12 },
        { label: 'PER', start: 25, end: 40 },
        { label: 'LOC', start: 44, end: 50 },
        { label: 'MISC', start, end: start + 17 },
      ],
    });
    expect(events).toHaveLength(2);
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

async function expectAccepted(editor: Locator): Promise<void> {
  const status = editor.locator('.fb-status').first();
  await status.filter({ hasText: /accepted|:/ }).waitFor({ timeout: 30_000 });
  expect(await status.textContent()).toMatch(/^correction accepted \(source gateway:acme\/page-reviewer\)$/);
}
