// Console access in a real browser: nothing without signing in, a wrong password is told,
// a viewer sees everything but cannot change anything, every change lands in the audit log,
// and signing out ends the session.
import { test, expect } from "@playwright/test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN_PASSWORD, Scimsync, scimsyncCli, signIn, testConfig } from "../support/servers";

const VIEWER_PASSWORD = "viewer password for e2e";
let scimsync: Scimsync;

test.beforeAll(async () => {
  scimsync = new Scimsync();
  const file = join(scimsync.dataDir, "config.json");
  // Servers are not needed: nothing here connects to them.
  writeFileSync(file, testConfig(1, "http://127.0.0.1:1/v2", "unused-token"));
  scimsyncCli(scimsync.dataDir, ["config", "import", file]);
  await scimsync.start();
  scimsyncCli(scimsync.dataDir, ["users", "add", "watcher", "--role", "viewer"], { SCIMSYNC_USER_PASSWORD: VIEWER_PASSWORD });
});

test.afterAll(async () => {
  await scimsync?.stop();
  scimsync?.cleanup();
});

test("signing in, a viewer who cannot change anything, the audit log, signing out", async ({ page }) => {
  // Anonymous: sent to the sign-in page, then back where they were going.
  await page.goto(`${scimsync.url}/step/7`);
  await expect(page).toHaveURL(/\/login\?next=\/step\/7$/);
  await page.fill("#username", "admin");
  await page.fill("#password", "not the password");
  await page.click('button[type="submit"]');
  await expect(page.locator(".errors")).toHaveText("Wrong username or password.");
  await expect(page.locator("#username")).toHaveValue("admin");
  await page.fill("#password", ADMIN_PASSWORD);
  await page.click('button[type="submit"]');
  await expect(page).toHaveURL(`${scimsync.url}/step/7`);
  await expect(page.locator("header .who")).toHaveText("admin · admin");
  await expect(page.locator(".viewer-notice")).toHaveCount(0);

  // The admin changes the pipe.
  await page.goto(`${scimsync.url}/step/7/edit/LDAP%20to%20SCIM`);
  await expect(page.locator('h1[data-hydrated="true"]')).toBeVisible();
  const retries = page.locator('[data-field="retry-attempts"] input');
  await retries.fill("7");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page).toHaveURL(`${scimsync.url}/step/7`);
  await page.click('header button:has-text("Sign out")');
  await expect(page).toHaveURL(/\/login$/);
  await page.goto(`${scimsync.url}/step/7`);
  await expect(page).toHaveURL(/\/login/);

  // The viewer sees the same pages but a change is refused and nothing changes.
  await signIn(page, scimsync.url, "watcher", VIEWER_PASSWORD);
  await expect(page.locator("header .who")).toHaveText("watcher · viewer");
  await expect(page.locator(".viewer-notice")).toBeVisible();
  await page.goto(`${scimsync.url}/step/7/edit/LDAP%20to%20SCIM`);
  await expect(page.locator('h1[data-hydrated="true"]')).toBeVisible();
  await expect(retries).toHaveValue("7");
  await retries.fill("9");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.locator(".errors")).toContainText("viewers can watch but not change anything");
  await page.goto(`${scimsync.url}/step/7/edit/LDAP%20to%20SCIM`);
  await expect(page.locator('h1[data-hydrated="true"]')).toBeVisible();
  await expect(retries).toHaveValue("7");

  // The audit log says who changed what; the viewer's refused attempt changed nothing.
  await page.goto(`${scimsync.url}/audit`);
  const rows = page.locator("table.audit tbody tr");
  await expect(rows.filter({ hasText: "console:admin" }).filter({ hasText: "update" })).toContainText('sync pipe "LDAP to SCIM"');
  await expect(rows.filter({ hasText: "console:admin" }).filter({ hasText: "update" })).toContainText("retry-attempts");
  await expect(rows.filter({ hasText: "import" })).toHaveCount(1);
  await expect(rows.filter({ hasText: "console:watcher" }).filter({ hasText: "update" })).toHaveCount(0);
  await page.screenshot({ path: "test-results/audit.png", fullPage: true });
});

test("signing in stays on the console whatever `next` says", async ({ page }) => {
  const console = new URL(scimsync.url);
  // As links would carry them (percent-encoded), and as they would arrive in the form.
  const hostile = ["/\t/evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
    "https://evil.example/", "/\n/evil.example", "javascript:alert(1)", "/ /evil.example"];
  for (const next of hostile) {
    await page.context().clearCookies();
    await page.goto(`${scimsync.url}/login?next=${encodeURIComponent(next)}`);
    await expect(page.locator('input[name="next"]')).toHaveValue("/");
    // The form posts it as given, too (what a page of an earlier release passed through).
    await page.locator('input[name="next"]').evaluate((input, value) => { (input as HTMLInputElement).value = value; }, next);
    await page.fill("#username", "admin");
    await page.fill("#password", ADMIN_PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForLoadState();
    const now = new URL(page.url());
    expect(now.origin, `next=${JSON.stringify(next)} led to ${page.url()}`).toBe(console.origin);
    await expect(page.locator("header .who")).toHaveText("admin · admin");
  }
});

test("every page runs under the console's Content-Security-Policy, and no site can frame it", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content.Security.Policy|Refused to/i.test(message.text())) violations.push(`${page.url()}: ${message.text()}`);
  });
  await signIn(page, scimsync.url, "admin", ADMIN_PASSWORD);
  const pages = ["/", "/setup", ...Array.from({ length: 11 }, (_, i) => `/step/${i + 1}`),
    "/step/7/edit/LDAP%20to%20SCIM", "/pipes/LDAP%20to%20SCIM", "/rejections", "/deletes", "/preview",
    "/audit", "/log"];
  for (const path of pages) {
    const response = await page.goto(`${scimsync.url}${path}`);
    expect(response?.headers()["content-security-policy"], path).toContain("frame-ancestors 'none'");
    // Hydrated: the page's WebAssembly and scripts ran under the policy.
    await expect(page.locator('h1[data-hydrated="true"]'), path).toBeVisible();
  }
  expect(violations).toEqual([]);

  // Another site framing the console (here a page of no origin) is refused by the browser.
  const refused: string[] = [];
  page.on("console", (message) => refused.push(message.text()));
  await page.setContent(`<iframe id="framed" src="${scimsync.url}/login"></iframe>`);
  await expect.poll(() => refused.some((t) => /frame-ancestors|X-Frame-Options/.test(t)), { timeout: 10_000 }).toBe(true);
  const framed = page.frame({ url: /\/login/ });
  expect(await framed?.locator("#username").count() ?? 0).toBe(0);
});
