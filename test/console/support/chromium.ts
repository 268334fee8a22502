import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** The flags every browser test runs Chromium with (headless, nothing fetched from elsewhere). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's `chromium` on PATH (the test setup installs it: scripts/ensure-services.js). */
export function chromiumPath(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/bin', '/usr/local/bin'])) {
    const candidate = path.join(dir, 'chromium');
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface Chromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts Debian's Chromium through playwright-core, with a fresh profile (`--user-data-dir` of its
 * own, removed on close). Throws, naming the fix, when Chromium is not installed.
 */
export async function launchChromium(): Promise<Chromium> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) {
    throw new Error(
      'chromium is not installed: run `apt-get install -y chromium` (npm test does it as root)',
    );
  }
  const profile = mkdtempSync(path.join(tmpdir(), 'larder-chromium-'));
  // playwright passes the profile as --user-data-dir; a persistent context is how it takes one.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 900 },
    timeout: 60_000,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
