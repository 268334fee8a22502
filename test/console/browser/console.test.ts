import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLarder } from '../../support/larder-process.ts';
import { tempDir } from '../../support/temp-dir.ts';
import { waitUntil } from '../../support/wait-until.ts';
import { launchChromium, type Chromium } from '../support/chromium.ts';
import {
  ADMIN_KEY,
  consoleRegistry,
  startConsoleServer,
  writeRegistry,
  type ConsoleServer,
} from './support/console-server.ts';

/**
 * The web console in Debian's Chromium (driven by playwright-core) against `larder serve` started
 * as a user starts it, with auth on and real data: events pushed over HTTP, a backfill run by the
 * CLI, a registry change picked up by the watcher. Every page is checked with axe-core, and
 * screenshotted (into docs/console/ with LARDER_UPDATE_SCREENSHOTS=1, `npm run console:screenshots`).
 */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SHOTS = process.env['LARDER_UPDATE_SCREENSHOTS'] === '1' ? path.join(ROOT, 'docs/console') : undefined;

describe('web console in a real browser', () => {
  const tmp = tempDir('larder-console-');
  const registryDir = path.join(tmp.dir, 'registry');
  const dataDir = path.join(tmp.dir, 'data');
  const shotDir = SHOTS ?? path.join(tmp.dir, 'shots');
  let server: ConsoleServer;
  let chromium: Chromium;
  let page: Page;
  let failedJob = '';
  const pageErrors: string[] = [];

  const open = async (route: string): Promise<void> => {
    await page.goto(`${server.url}${route}`);
    await page.locator('main h1').first().waitFor();
  };

  /** axe-core's WCAG 2.1 A/AA rules on the page as it is now; any violation fails with its details. */
  const checkAccessibility = async (name: string): Promise<void> => {
    // Evaluated over the DevTools protocol: the page's CSP (no inline script) stays as it is.
    if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(AXE);
    const violations = await page.evaluate(async () => {
      interface Violation {
        id: string;
        help: string;
        nodes: { target: unknown; failureSummary: string }[];
      }
      const { axe, document } = globalThis as unknown as {
        axe: { run: (context: unknown, options: unknown) => Promise<{ violations: Violation[] }> };
        document: unknown;
      };
      const result = await axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      });
      return result.violations.map((v) => ({
        id: v.id,
        help: v.help,
        nodes: v.nodes.slice(0, 3).map((n) => [n.target, n.failureSummary]),
      }));
    });
    expect(violations, `axe-core on ${name}`).toEqual([]);
  };

  const shoot = async (name: string): Promise<void> => {
    mkdirSync(shotDir, { recursive: true });
    await page.screenshot({ path: path.join(shotDir, `${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    writeRegistry(registryDir, consoleRegistry(false));
    // Two good rows and one bad: the nightly job allows no bad row, so it fails.
    mkdirSync(path.join(registryDir, 'data'), { recursive: true });
    const rows = [
      { user_id: 1, score: 90 },
      { user_id: 2, score: 'high' },
      { user_id: 3, score: 70 },
    ];
    writeFileSync(
      path.join(registryDir, 'data/scores.jsonl'),
      rows.map((r) => JSON.stringify(r)).join('\n') + '\n',
    );
    server = await startConsoleServer(registryDir, dataDir);
    const now = Date.now();
    await server.push(
      'clicks',
      Array.from({ length: 30 }, (_, i) => ({
        id: `c${i}`,
        ts: now - 1000 * i,
        user_id: 1 + (i % 3),
        item: 100 + i,
      })),
    );
    // Events the first mapping of user.level cannot read: dead-lettered.
    await server.push('profile', [
      { id: 'p1', ts: now, user_id: 1, level: 7 },
      { id: 'p2', ts: now, user_id: 2, level: 3 },
    ]);
    // The backfill fails on its bad row (exit code 1), in a process of its own.
    const backfill = startLarder([
      'backfill',
      'nightly_scores',
      '--registry',
      registryDir,
      '--data',
      dataDir,
    ]);
    expect(await backfill.exited).toBe(1);
    failedJob = /job (\S+) /.exec(backfill.output())?.[1] ?? '';
    expect(failedJob).not.toBe('');

    chromium = await launchChromium();
    page = await chromium.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Auth is on: the console asks for a key once, and keeps it in this (fresh) profile.
    await page.goto(`${server.url}/console/features`);
    await page.getByLabel(/^Key/).waitFor();
    await checkAccessibility('the key form');
    await page.getByLabel(/^Key/).fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await page.getByRole('heading', { name: 'Features', level: 1 }).waitFor();
  }, 120_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
    tmp.remove();
  });

  it('searches the catalog by name, and by owner and tag', async () => {
    await open('/console/features');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(3);
    await page.getByLabel('Search features').fill('click');
    await expect.poll(() => page.locator('tbody th a').allTextContents()).toEqual(['user.clicks']);
    expect(page.url()).toContain('q=click');
    await page.getByLabel('Search features').fill('owner:ml-team tag:batch');
    await expect.poll(() => page.locator('tbody th a').allTextContents()).toEqual(['user.score']);
    await page.getByLabel('Search features').fill('');
    await page.getByLabel('Owner').selectOption('crm-team');
    await expect.poll(() => page.locator('tbody th a').allTextContents()).toEqual(['user.level']);
    await page.goto(`${server.url}/console/features`);
    await expect.poll(() => page.locator('tbody tr').count()).toBe(3);
    await checkAccessibility('the catalog');
    await shoot('features');
  });

  it('opens a feature and reads a sample value for an id', async () => {
    await open('/console/features/user/clicks');
    const line = consoleRegistry(false).split('\n').indexOf('    clicks:') + 1;
    expect(await page.locator('dl.facts code').first().innerText()).toBe(`registry.yaml:${line}:5`);
    await page.getByLabel('user id').fill('1');
    await page.getByRole('button', { name: 'Read value' }).click();
    const sample = page.getByTestId('sample-value');
    await sample.waitFor();
    const rows = JSON.parse(await sample.innerText()) as { item: number; timestamp: number }[];
    expect(rows.length).toBe(10);
    expect(rows[0]?.item).toBe(100); // the newest click of user 1
    expect(await page.locator('pre.numbered .line').first().innerText()).toMatch(/^\s*clicks:/);
    await checkAccessibility('a feature');
    await shoot('feature');
  });

  it('moves the stream chart while events are pushed', async () => {
    await open('/console/streams');
    const chart = page.locator('[data-stream="ev/clicks"] figure').first().locator('[data-last]');
    await chart.waitFor();
    const rate = async (): Promise<number> => {
      const last = /([0-9.,]+)$/.exec((await chart.getAttribute('data-last')) ?? '')?.[1];
      return last === undefined ? Number.NaN : Number(last.replace(/,/g, ''));
    };
    // Idle first; then the line rises while events are pushed, and falls back when they stop.
    await waitUntil(async () => (await rate()) === 0, 20_000, 'the ev/clicks chart to show no traffic', 200);
    let n = 0;
    const pushing = setInterval(() => {
      const batch = Array.from({ length: 20 }, () => ({
        id: `live${n++}`,
        ts: Date.now(),
        user_id: 9,
        item: n,
      }));
      void server.push('clicks', batch).catch(() => undefined);
    }, 100);
    try {
      await waitUntil(async () => (await rate()) > 50, 20_000, 'the ev/clicks chart to rise', 200);
      await page.getByLabel('Time range').selectOption('5m');
      expect(page.url()).toContain('range=5m');
      expect(Number(await chart.getAttribute('data-points'))).toBe(600); // 5 min of 500 ms points
      expect(await page.getByTestId('events-rate').first().innerText()).not.toBe('0/s');
      await shoot('streams');
    } finally {
      clearInterval(pushing);
    }
    await waitUntil(async () => (await rate()) === 0, 20_000, 'the ev/clicks chart to fall back', 200);
    await checkAccessibility('streams');
  });

  it('opens the failed job from its deep link and retries it after the data is fixed', async () => {
    await open('/console/jobs');
    await expect.poll(() => page.locator('tbody th a').allTextContents()).toContain(failedJob);
    await checkAccessibility('jobs');
    // The job's stable URL, as alerts and the CLI print it (`/jobs/<id>` redirects to the console).
    await page.goto(`${server.url}/jobs/${failedJob}`);
    await page.getByRole('heading', { name: `Job ${failedJob}` }).waitFor();
    expect(page.url()).toBe(`${server.url}/console/jobs/${failedJob}`);
    await expect.poll(() => page.locator('.job-head .badge').first().innerText()).toBe('failed');
    await expect
      .poll(() => page.locator('#bad-rows ~ * td').allTextContents())
      .toContain('LARDER_ERR_EVENT_TYPE');
    expect(await page.locator('.dag-text').innerText()).toContain('score_report');
    await checkAccessibility('a failed job');
    await shoot('job-failed');

    writeFileSync(
      path.join(registryDir, 'data/scores.jsonl'),
      [
        { user_id: 1, score: 90 },
        { user_id: 2, score: 80 },
        { user_id: 3, score: 70 },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    await page.getByRole('button', { name: 'Retry job' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Retry' }).click();
    await expect
      .poll(() => page.locator('.job-head .badge').first().innerText(), { timeout: 30_000 })
      .toBe('succeeded');
    expect(await page.locator('progress').first().getAttribute('value')).toBe('100');
    expect(await page.locator('#progress ~ dl').innerText()).toMatch(/Attempt\s+2/);
    await shoot('job');
  });

  it('replays a dead letter once the registry is fixed, and the feature changes', async () => {
    await open('/console/features/user/level');
    await page.getByLabel('user id').fill('1');
    await page.getByRole('button', { name: 'Read value' }).click();
    await expect.poll(() => page.getByTestId('sample-value').innerText()).toMatch(/^null/);

    // A broken change first (refused: the running registry stays), then the fix (applied).
    writeRegistry(registryDir, consoleRegistry(true).replace('featureType: static', 'featureTyp: static'));
    await open('/console/registry');
    await expect
      .poll(() => page.locator('#refused ~ * td').allTextContents(), { timeout: 15_000 })
      .toContain('LARDER_ERR_SPEC_UNKNOWN_KEY');
    const running = await page.getByTestId('registry-version').innerText();
    writeRegistry(registryDir, consoleRegistry(true));
    await expect
      .poll(() => page.getByTestId('registry-version').innerText(), { timeout: 15_000 })
      .not.toBe(running);
    // The rollout through the store: this server's process runs the applied version.
    await expect
      .poll(() => page.locator('section[aria-labelledby="rollout"] p').innerText(), { timeout: 15_000 })
      .toMatch(/^Applied version \d+ \([0-9a-f]{12}\) .* Every process runs it\.$/);
    expect(await page.locator('section[aria-labelledby="rollout"] tbody th').allTextContents()).toContain(
      'serve',
    );
    await checkAccessibility('the registry');
    await shoot('registry');

    await open('/console/dlq?feature=user.level');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(2);
    await checkAccessibility('dead letters');
    await shoot('dlq');
    await page.locator('tbody th a').first().click();
    await page.getByRole('heading', { name: /^Dead letter / }).waitFor();
    expect(await page.locator('pre.code').innerText()).toContain('"level": 7');
    await checkAccessibility('a dead letter');
    await page.getByRole('button', { name: 'Replay this dead letter…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Replay' }).click();
    await expect.poll(() => page.getByTestId('replay-report').innerText()).toMatch(/1 accepted/);

    await open('/console/features/user/level');
    await page.getByLabel('user id').fill('1');
    await page.getByRole('button', { name: 'Read value' }).click();
    await expect.poll(() => page.getByTestId('sample-value').innerText()).toMatch(/^7$/);
  });

  it('runs a query in the playground against the live schema', async () => {
    await open('/console/query');
    await expect.poll(() => page.locator('#query-help').innerText()).toMatch(/Schema loaded/);
    const editor = page.locator('.cm-content');
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('{ user(id: 2) { score level } }');
    await page.getByRole('button', { name: 'Run query' }).click();
    await expect.poll(() => page.getByTestId('query-result').innerText()).toMatch(/"score": 80/);
    // Keyboard: Ctrl-Enter runs from inside the editor too.
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText('{ users(ids: [1, 3]) { id score } }');
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => page.getByTestId('query-result').innerText()).toMatch(/"score": 70/);
    await checkAccessibility('the playground');
    await shoot('query');
    expect(pageErrors).toEqual([]);
  });
});
