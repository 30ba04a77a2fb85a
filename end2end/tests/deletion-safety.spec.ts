// Deletion safety in the console: a delete storm beyond the pipe's hourly limit is held, the
// pipe page says so, and the admin approves the held deletes from the held-deletes page; they
// are applied at the destination and the audit log names who approved them.
import { test, expect } from "@playwright/test";
import { ldapModify, scimsyncCli, signIn, hydrated, scimUserNames, configuredServers } from "../support/servers";

const TOKEN = "deletion-e2e-token";
const PIPE = "LDAP to SCIM";

const servers = configuredServers(
  TOKEN,
  (dataDir) => {
    scimsyncCli(dataDir, ["realtime-sync", "set-startpoint", "--pipe", PIPE, "--end-of-changelog"]);
    scimsyncCli(dataDir, ["realtime-sync", "start", "--pipe", PIPE]);
  },
  (config) => {
    config["sync-pipes"][0]["max-deletes-per-hour"] = 2;
  },
);

const uids = ["storm1", "storm2", "storm3", "storm4", "storm5"];
const dn = (uid: string) => `uid=${uid},ou=people,dc=example,dc=com`;

test("a delete storm over the limit is held, shown, approved from the console and applied", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await ldapModify(
    servers.slapd.port,
    uids.map((u) => `dn: ${dn(u)}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: ${u}\ncn: ${u}\nsn: ${u}\n\n`).join(""),
  );
  await expect(async () => expect(await scimUserNames(page, servers.scim.baseUrl, TOKEN)).toEqual(uids)).toPass({ timeout: 20_000 });

  // All five go at once: two deletes apply, three are held.
  await ldapModify(servers.slapd.port, uids.map((u) => `dn: ${dn(u)}\nchangetype: delete\n\n`).join(""));
  await signIn(page, servers.scimsync.url);
  await page.goto(`${servers.scimsync.url}/pipes/${encodeURIComponent(PIPE)}`);
  await hydrated(page);
  const held = page.locator("[data-deletes-held]");
  await expect(held).toHaveAttribute("data-deletes-held", "3", { timeout: 20_000 });
  await expect(held).toContainText("Deletes held: 3");
  await page.screenshot({ path: "test-results/pipe-deletes-held.png", fullPage: true });
  await expect(page.locator('.pipe-status [data-count="deleted"]')).toHaveText("2");
  expect(await scimUserNames(page, servers.scim.baseUrl, TOKEN)).toHaveLength(3);

  // The held-deletes page lists them; the admin approves all of them.
  await held.getByRole("link", { name: "Approve or discard them" }).click();
  await hydrated(page);
  const rows = page.locator("tr[data-held-dn]");
  await expect(rows).toHaveCount(3);
  await expect(rows.first()).toContainText("the pipe's limit of 2 delete(s) per hour is reached");
  await page.screenshot({ path: "test-results/held-deletes.png", fullPage: true });
  await page.getByRole("button", { name: "Approve all 3 shown" }).click();
  await expect(page.locator("ul.report li")).toHaveCount(3);
  await expect(page.locator("ul.report")).not.toContainText("rejected");
  for (const line of await page.locator("ul.report li").allTextContents()) {
    expect(line).toMatch(/^uid=storm\d,ou=people,dc=example,dc=com: deleted$/);
  }
  await expect(page.locator("[data-none]")).toHaveText("No held deletes.");
  expect(await scimUserNames(page, servers.scim.baseUrl, TOKEN)).toEqual([]);

  // Who approved them is in the audit log.
  await page.goto(`${servers.scimsync.url}/audit`);
  const approvals = page.locator("table.audit tbody tr").filter({ hasText: "approve-delete" });
  await expect(approvals).toHaveCount(3);
  await expect(approvals.first()).toContainText("console:admin");
  await expect(approvals.first()).toContainText('held delete of "uid=storm');
  expect(errors).toEqual([]);
});
