// Preview one entry in the console: every step shown, nothing changed; then Apply creates the
// resource and the page says it was done.
import { test, expect } from "@playwright/test";
import { ldapModify, signIn, hydrated, scimUserNames, configuredServers } from "../support/servers";

const TOKEN = "preview-e2e-token";
const PIPE = "LDAP to SCIM";

const servers = configuredServers(TOKEN);

test("a preview shows each step and changes nothing; Apply does what it showed", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const dn = "uid=preview1,ou=people,dc=example,dc=com";
  await ldapModify(servers.slapd.port, `dn: ${dn}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: preview1\ncn: Preview One\nsn: One\n\n`);
  await signIn(page, servers.scimsync.url);
  // The pipe page's Preview field opens the preview of that entry, shown at once.
  await page.goto(`${servers.scimsync.url}/pipes/${encodeURIComponent(PIPE)}`);
  await hydrated(page);
  await page.locator('form.preview-form input[name="dn"]').fill(dn);
  await page.locator("form.preview-form").getByRole("button", { name: "Preview" }).click();
  await hydrated(page);
  await expect(page.locator('input[name="pipe"]')).toHaveValue(PIPE);
  await expect(page.locator('input[name="dn"]')).toHaveValue(dn);

  const steps = page.locator("ol.preview");
  await expect(steps).toHaveAttribute("data-action", "created");
  await expect(steps).toHaveAttribute("data-applied", "false");
  await expect(steps.locator('[data-step="entry"]')).toContainText("sn: One");
  await expect(steps.locator('li[data-class="People"]')).toHaveAttribute("data-takes", "true");
  await expect(steps.locator('[data-step="mapped-create"]')).toContainText('"userName": "preview1"');
  await expect(steps.locator('[data-step="search"]')).toContainText('userName eq "preview1"');
  await expect(steps.locator('[data-step="search"] [data-found]')).toHaveText("found: nothing");
  await expect(steps.locator('[data-step="action"]')).toContainText("Action: created (not done: preview only)");
  await expect(steps.locator('[data-step="action"]')).toContainText('"method": "POST"');
  expect(await scimUserNames(page, servers.scim.baseUrl, TOKEN)).not.toContain("preview1");
  await page.screenshot({ path: "test-results/preview.png", fullPage: true });

  await page.getByRole("button", { name: "Apply" }).click();
  await expect(steps).toHaveAttribute("data-applied", "true");
  await expect(steps.locator('[data-step="action"]')).toContainText("Action: created (done)");
  expect(await scimUserNames(page, servers.scim.baseUrl, TOKEN)).toContain("preview1");
  // Previewed again, it is in sync.
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(steps).toHaveAttribute("data-action", "in-sync");
  expect(errors).toEqual([]);
});
