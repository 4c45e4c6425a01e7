import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startDemo, type RunningDemo } from './support/demo-app';

const CHROMIUM = '/usr/bin/chromium';
/** Flags for a closed network: without them Chromium keeps calling home and being refused. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SCREENSHOT = join(__dirname, 'artifacts', 'demo-page.png');
/** Runs before the page's own script (and outside its CSP): reports every CSP violation. */
const REPORT_CSP_VIOLATIONS = `document.addEventListener('securitypolicyviolation', (e) =>
  console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));`;

/** Like the Redis suites: without Chromium, skipped with the reason, except in CI where it fails. */
const describeWithChromium: jest.Describe = (() => {
  if (existsSync(CHROMIUM)) return describe;
  if (process.env.CI)
    throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium package`);
  console.warn(`Skipping the browser test: ${CHROMIUM} is missing (apt-get install chromium)`);
  return describe.skip;
})();

describeWithChromium('the demo page in headless Chromium (cookie mode)', () => {
  let demo: RunningDemo;
  let origin: string;
  let attacker: Server;
  let attackerOrigin: string;
  let browser: Browser;
  let page: Page;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    demo = await startDemo({ TOKEN_LOCATION: 'cookies', COOKIE_SECURE: 'false' });
    await demo.app.listen(0, '127.0.0.1');
    origin = `http://localhost:${((demo.app.getHttpServer() as Server).address() as AddressInfo).port}`;
    // Another site (127.0.0.1 is not localhost's site) whose page posts a form to the demo.
    attacker = createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(`<form id="f" method="POST" action="${origin}/auth/logout-all"></form>
        <script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerOrigin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await (await browser.newContext()).newPage();
    await page.addInitScript({ content: REPORT_CSP_VIOLATIONS });
    page.on('console', (message) => {
      if (message.text().startsWith('CSP violation')) cspViolations.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => attacker?.close(resolve));
    await demo?.close();
  });

  it('logs in, shows the user, calls /admin/users, refreshes and logs out', async () => {
    await page.goto(`${origin}/`);
    await page.getByText('Not logged in').waitFor();
    await page.click('#login-button');
    await page.getByText('Logged in as alice (admin)').waitFor();

    await page.click('#admin');
    await page.getByText('GET /admin/users -> 200').waitFor();

    await page.click('#refresh');
    await page.getByText('POST /auth/refresh -> 200').waitFor();
    await page.getByText('Logged in as alice (admin)').waitFor();

    mkdirSync(join(__dirname, 'artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('keeps the access and refresh tokens out of document.cookie', async () => {
    const visible = await page.evaluate<string>('document.cookie');
    expect(visible).toContain('tg_csrf=');
    expect(visible).not.toContain('tg_access');
    expect(visible).not.toContain('tg_refresh');
    expect(visible).not.toMatch(/eyJ/); // no JWT at all
  });

  it('refuses a cross-site form POST without the CSRF header, and the session survives', async () => {
    const other = await page.context().newPage();
    const posted = other.waitForResponse((res) => res.url() === `${origin}/auth/logout-all`);
    await other.goto(`${attackerOrigin}/`);
    const response = await posted;
    expect([401, 403]).toContain(response.status());
    await other.close();

    await page.reload();
    await page.getByText('Logged in as alice (admin)').waitFor();
  });

  it('shows a 403 for carol on /admin/users, and logs out', async () => {
    await page.click('#logout');
    await page.getByText('Not logged in').waitFor();
    await page.fill('#username', 'carol');
    await page.fill('#password', 'carol-password');
    await page.click('#login-button');
    await page.getByText('Logged in as carol (user)').waitFor();
    await page.click('#admin');
    await page.getByText('GET /admin/users -> 403').waitFor();
    await page.click('#logout');
    await page.getByText('Not logged in').waitFor();
    expect(await page.evaluate<string>('document.cookie')).not.toContain('tg_csrf=');
  });

  it('runs the page under its Content-Security-Policy without a single violation', async () => {
    expect(cspViolations).toEqual([]);
    // The listener works: an inline style attribute is refused and reported (style-src 'self').
    const reported = page.waitForEvent('console', (m) => m.text().startsWith('CSP violation'));
    await page.evaluate(`document.body.setAttribute('style', 'color: red')`);
    expect((await reported).text()).toContain('style-src');
  });
});
