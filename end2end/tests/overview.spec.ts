// The operations overview: once a pipe is configured, home shows each pipe at a glance, and
// its counters move while a resync runs (elapsed time, entries/s, time left), then the
// finished resync's duration and counts; the setup steps are on /setup.
import { test, expect } from "@playwright/test";
import { ldapModify, signIn, hydrated, scimUserNames, configuredServers } from "../support/servers";

const TOKEN = "overview-e2e-token";
const PIPE = "LDAP to SCIM";

const servers = configuredServers(TOKEN);

test("the overview's counters move while a resync runs", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const uids = Array.from({ length: 40 }, (_, i) => `over${i}`);
  await ldapModify(
    servers.slapd.port,
    uids.map((u) => `dn: uid=${u},ou=people,dc=example,dc=com\nchangetype: add\nobjectClass: inetOrgPerson\nuid: ${u}\ncn: ${u}\nsn: ${u}\n\n`).join(""),
  );
  await signIn(page, servers.scimsync.url);
  await page.goto(servers.scimsync.url);
  await hydrated(page);
  await expect(page.locator("h1")).toHaveText("Operations");
  const card = page.locator(`section.pipe-card[data-pipe="${PIPE}"]`);
  await expect(card.locator('[data-fact="state"]')).toHaveText("stopped");
  await expect(card.locator('[data-fact="rejections"]')).toHaveText("0");
  await expect(card.locator("[data-resync]")).toHaveAttribute("data-resync", "none");

  // A slow resync (8 operations a second), started from step 10.
  await page.goto(`${servers.scimsync.url}/step/10`);
  await hydrated(page);
  const panel = page.locator(`section.resync[data-pipe="${PIPE}"]`);
  await panel.locator('input[name="rate"]').fill("8");
  await panel.getByRole("button", { name: "Start resync" }).click();
  await expect(panel.locator(".progress")).toHaveAttribute("data-state", "running");

  // Home follows it live: the counts grow, with a pace and the time left.
  await page.goto(servers.scimsync.url);
  await hydrated(page);
  const resync = card.locator("[data-resync]");
  await expect(resync).toHaveAttribute("data-resync", "running");
  const created = card.locator('[data-resync-count="created"]');
  const first = await created.textContent();
  await expect(card.locator("[data-resync-headline]")).toContainText("entries/s");
  await expect(card.locator("[data-resync-headline]")).toContainText(/left|estimating/);
  await expect(created).not.toHaveText(first ?? "", { timeout: 10_000 });
  await page.screenshot({ path: "test-results/overview-running.png", fullPage: true });

  // Finished: how long it took, and the changes of the last hour.
  await expect(resync).toHaveAttribute("data-resync", "finished", { timeout: 30_000 });
  await expect(created).toHaveText("40 created");
  await expect(card.locator("[data-resync-headline]")).toContainText("took");
  // Every entry the resync handled is a logged change (the directory holds a few more).
  const lastHour = await card.locator('[data-fact="changes-last-hour"]').textContent();
  expect(parseInt(lastHour ?? "0")).toBeGreaterThanOrEqual(40);
  await page.screenshot({ path: "test-results/overview.png", fullPage: true });

  // Two entries go while nothing runs: a resync with "Delete missing" removes their users.
  await ldapModify(servers.slapd.port, ["over0", "over1"].map((u) => `dn: uid=${u},ou=people,dc=example,dc=com\nchangetype: delete\n\n`).join(""));
  await page.goto(`${servers.scimsync.url}/step/10`);
  await hydrated(page);
  await panel.locator('input[name="rate"]').fill("");
  await panel.locator('input[name="delete-missing"]').check();
  await panel.getByRole("button", { name: "Start resync" }).click();
  await expect(panel.locator('.progress[data-state="finished"] [data-count="deleted"]')).toHaveText("2", { timeout: 30_000 });
  const names = await scimUserNames(page, servers.scim.baseUrl, TOKEN);
  expect(names).not.toContain("over0");
  expect(names).toContain("over2");
  await page.goto(servers.scimsync.url);
  await hydrated(page);
  await expect(card.locator('[data-resync-count="deleted"]')).toHaveText("2 deleted (missing)");

  // The log of changes has the resync's rows: filtered by DN, over1's creation and its delete.
  await page.getByRole("link", { name: "Log of changes" }).click();
  await hydrated(page);
  await page.locator('input[name="dn"]').fill("uid=over1,");
  await page.getByRole("button", { name: "Filter" }).click();
  const rows = page.locator("table.sync-log tbody tr");
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: "resync" })).toHaveCount(2);
  await expect(page.locator('tr[data-outcome="created"]')).toContainText("POST with ");
  await expect(page.locator('tr[data-outcome="deleted"]')).toContainText("DELETE");

  // The setup steps have their own page.
  await page.goto(servers.scimsync.url);
  await hydrated(page);
  await page.getByRole("link", { name: "Setup steps →" }).click();
  await hydrated(page);
  await expect(page.locator("h1")).toHaveText("Set up synchronization");
  await expect(page.locator("ol.cards li.card")).toHaveCount(11);
  expect(errors).toEqual([]);
});
