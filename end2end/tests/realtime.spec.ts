// Realtime sync in the console: started from step 11, a change made in LDAP shows up on the
// pipe page's counters without a reload, a rejected change shows up too, and after the admin
// fixes the cause in the configuration it is retried successfully from the rejections page.
import { test, expect } from "@playwright/test";
import { ldapModify, scimsyncCli, signIn, hydrated, configuredServers } from "../support/servers";

const TOKEN = "realtime-e2e-token";
const PIPE = "LDAP to SCIM";

const servers = configuredServers(TOKEN, (dataDir) =>
  scimsyncCli(dataDir, ["realtime-sync", "set-startpoint", "--pipe", PIPE, "--end-of-changelog"]),
);

const user = (uid: string, email: string) =>
  `dn: uid=${uid},ou=people,dc=example,dc=com\nchangetype: add\nobjectClass: inetOrgPerson\nobjectClass: scimsyncTestUser\n` +
  `uid: ${uid}\ncn: ${uid}\nsn: ${uid}\ntestEmailJSON: ${email}\n\n`;

test("a change in LDAP reaches the pipe page live; a rejection is fixed and retried", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));

  // Step 11: start realtime sync.
  await signIn(page, servers.scimsync.url);
  await page.goto(`${servers.scimsync.url}/step/11`);
  await hydrated(page);
  const row = page.locator(`tr[data-pipe="${PIPE}"]`);
  await expect(row.locator("[data-realtime-state]")).toHaveText("stopped");
  await row.getByRole("button", { name: "Start" }).click();
  await expect(page.locator(".flash")).toHaveText(`Realtime sync of "${PIPE}" started.`);

  // The pipe page follows the running pipe.
  await row.getByRole("link", { name: PIPE }).click();
  await hydrated(page);
  const status = page.locator(".pipe-status");
  await expect(status).toHaveAttribute("data-state", "running", { timeout: 20_000 });
  await expect(status.locator('[data-count="changes"]')).toHaveText("0");
  // The test slapd runs syncprov on its accesslog: changes are pushed, and the backlog is known.
  await expect(status.locator('[data-fact="New changes"]')).toContainText("pushed by the source");
  await expect(status.locator('[data-fact="Changelog backlog"]')).toContainText("0 changes");
  await page.evaluate(() => ((window as any).__noReload = true));

  // A user added in LDAP appears on the counters.
  await ldapModify(servers.slapd.port, user("live1", '{"value":"live1@example.com"}'));
  await expect(status.locator('[data-count="created"]')).toHaveText("1");
  // A broken value the mapping rejects appears too.
  await ldapModify(servers.slapd.port, user("broken", "{oops"));
  await expect(status.locator('[data-count="rejected"]')).toHaveText("1");
  await expect(status.locator('[data-fact="Last error"]')).toContainText("uid=broken");
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  await page.screenshot({ path: "test-results/pipe-page.png", fullPage: true });

  // The rejection, inspected.
  await page.getByRole("link", { name: "Rejected operations of this pipe →" }).click();
  await hydrated(page);
  const item = page.locator('li[data-rejected-dn="uid=broken,ou=people,dc=example,dc=com"]');
  await expect(item).toContainText('attribute mapping "Emails" (testEmailJSON): "{oops" is not JSON');
  await item.locator("summary").click();
  await expect(item.locator("pre").first()).toContainText('"change"');

  // Fix the cause: the Emails mapping now leaves unmappable values out.
  await page.goto(`${servers.scimsync.url}/step/4/edit/Emails`);
  await hydrated(page);
  await page.locator('[data-field="failed-mapping-behavior"] select').selectOption("ignore-individual-values");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page).toHaveURL(`${servers.scimsync.url}/step/4`);

  // Retry: created, and nothing is left open.
  await page.goto(`${servers.scimsync.url}/rejections`);
  await hydrated(page);
  await page.locator('li[data-rejected-dn="uid=broken,ou=people,dc=example,dc=com"]').getByRole("button", { name: "Retry" }).click();
  await expect(page.locator("ul.report")).toContainText("uid=broken,ou=people,dc=example,dc=com: created");
  await expect(page.locator("[data-none]")).toBeVisible();
  const users = await (await page.request.get(`${servers.scim.baseUrl}/Users?filter=userName eq "broken"`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json();
  expect(users.totalResults).toBe(1);

  // Step 11 is done; the step list says so. The list is read when a page loads, and the edit
  // above restarted the pipe ("starting" for a moment), so load until it settles.
  await expect(async () => {
    await page.goto(`${servers.scimsync.url}/`);
    await hydrated(page);
    await expect(page.locator('nav.steps li[data-step="11"]')).toHaveAttribute("data-state", "done", { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });

  // The log of changes has both realtime changes; filtered by outcome, only the rejected one.
  await page.getByRole("link", { name: "Log of changes" }).click();
  await hydrated(page);
  const live1 = page.locator('table.sync-log tr[data-dn="uid=live1,ou=people,dc=example,dc=com"]');
  await expect(live1).toHaveAttribute("data-outcome", "created");
  await expect(live1).toContainText("realtime");
  await expect(live1).toContainText("POST with ");
  await expect(page.locator('tr[data-dn="uid=broken,ou=people,dc=example,dc=com"][data-outcome="rejected"]')).toBeVisible();
  await page.locator('select[name="outcome"]').selectOption("rejected");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(live1).toHaveCount(0);
  await expect(page.locator('table.sync-log tbody tr:not([data-outcome="rejected"])')).toHaveCount(0);
  const csv = await (await page.request.get(`${servers.scimsync.url}/api/log?format=csv&outcome=created`)).text();
  expect(csv.split("\r\n")[0]).toBe("at,pipe,phase,outcome,dn,endpoint,resource_id,summary,duration_ms");
  expect(csv).toContain(',realtime,created,"uid=live1,ou=people,dc=example,dc=com",Users,');
  await page.screenshot({ path: "test-results/log-page.png", fullPage: true });
  expect(errors).toEqual([]);
});
