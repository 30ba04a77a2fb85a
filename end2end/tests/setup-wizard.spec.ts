// The eleven-step setup in a real browser against a real slapd and scim2-server:
// every form is filled (one mapping of each of the seven types), server-side validation
// errors appear next to their fields and keep what was typed, "Test connection" reaches both
// servers, secrets never reach a page or the database in clear text, and everything is
// still there after the server restarts.
import { test, expect, Page, Locator } from "@playwright/test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Scimsync, ldapModify, signIn, startScim2Server, startSlapd, Proc } from "../support/servers";

const BIND_PASSWORD = "syncpass";
const SCIM_TOKEN = "e2e-token-9f3a";
const DECRYPTION_KEY = "changelog-key-77b1";

let scimsync: Scimsync;
let slapd: Proc & { dir: string };
let scim: Proc & { baseUrl: string };

test.beforeAll(async () => {
  [slapd, scim] = await Promise.all([startSlapd(), startScim2Server(SCIM_TOKEN)]);
  scimsync = new Scimsync();
  await scimsync.start();
});

test.afterAll(async () => {
  await Promise.all([scimsync?.stop(), slapd?.stop(), scim?.stop()]);
  scimsync?.cleanup();
});

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  return errors;
}

async function gotoStep(page: Page, n: number) {
  await page.goto(`${scimsync.url}/step/${n}`);
  await expect(page.locator('h1[data-hydrated="true"]')).toBeVisible();
}

const newForm = (page: Page) => page.locator("section.create form.object-form");
const field = (form: Locator, key: string) => form.locator(`[data-field="${key}"]`);

async function fill(form: Locator, key: string, value: string) {
  await field(form, key).locator("input[type=text], input[type=password], textarea").first().fill(value);
}
async function choose(form: Locator, key: string, value: string) {
  await field(form, key).locator("select").selectOption(value);
}
async function tick(form: Locator, key: string, values: string[]) {
  for (const v of values) await field(form, key).locator(`input[value="${v}"]`).check();
}
async function setCheckbox(form: Locator, key: string, on: boolean) {
  await field(form, key).locator("input[type=checkbox]").setChecked(on);
}
async function create(page: Page, name: string) {
  await newForm(page).getByRole("button", { name: "Create" }).click();
  await expect(page.locator(".flash")).toHaveText(`Saved “${name}”.`);
  await expect(page.locator(`tr[data-object="${name}"]`)).toBeVisible();
}

const ALL_USAGES = ["fetch", "create-during-realtime-sync", "create-during-resync", "update-during-realtime-sync", "update-during-resync"];

async function createMapping(
  page: Page,
  m: { name: string; scim: string; type: string; ldap?: string; single?: boolean; subs?: string[]; extra?: (f: Locator) => Promise<void> },
) {
  const f = newForm(page);
  await fill(f, "name", m.name);
  await fill(f, "scim-attribute-name", m.scim);
  await choose(f, "syntax.type", m.type);
  if (m.ldap) await fill(f, "syntax.ldap-attribute", m.ldap);
  if (m.single !== undefined) await setCheckbox(f, "syntax.single-valued", m.single);
  if (m.subs) await tick(f, "syntax.sub-attribute-mappings", m.subs);
  if (m.extra) await m.extra(f);
  await tick(f, "attribute-usage", ALL_USAGES);
  await create(page, m.name);
}

test("an admin sets up all eleven steps and finds them after a restart", async ({ page }) => {
  const errors = watchErrors(page);

  // Overview: eleven steps, nothing done.
  await signIn(page, scimsync.url);
  await page.goto(scimsync.url);
  await expect(page.locator('h1[data-hydrated="true"]')).toBeVisible();
  await expect(page.locator("nav.steps li.step")).toHaveCount(11);
  await expect(page.locator('nav.steps li[data-step="1"]')).toHaveAttribute("data-state", "missing");
  await expect(page.locator('nav.steps li[data-step="2"]')).toHaveAttribute("data-state", "optional");

  // Step 1: LDAP sync source, tested before it is saved.
  await gotoStep(page, 1);
  let f = newForm(page);
  await fill(f, "name", "Corporate LDAP");
  await fill(f, "servers", `127.0.0.1:${slapd.port}`);
  await fill(f, "bind-dn", "cn=sync,dc=example,dc=com");
  await fill(f, "bind-password", BIND_PASSWORD);
  await fill(f, "base-dns", "ou=people,dc=example,dc=com\nou=groups,dc=example,dc=com");
  await choose(f, "changelog", "openldap-accesslog");
  await expect(field(f, "accesslog-base-dn").locator("input")).toHaveValue("cn=accesslog");
  await f.getByRole("button", { name: "Test connection" }).click();
  const ldapProbe = f.locator(".probe");
  await expect(ldapProbe.locator(".headline")).toHaveText("Connected — ready.");
  await expect(ldapProbe).toContainText(`127.0.0.1:${slapd.port}`);
  await expect(ldapProbe).toContainText("OpenLDAP accesslog at \"cn=accesslog\"");
  await expect(ldapProbe).toContainText("ou=people,dc=example,dc=com — found");
  // Which attribute identifies entries: the one the accesslog records (reqEntryUUID).
  await expect(ldapProbe).toContainText("Entries known by");
  await expect(ldapProbe).toContainText(/entryUUID(, which the changelog records with each change| \(the changelog holds no record yet)/);
  await page.screenshot({ path: "test-results/step-1-test-connection.png", fullPage: true });
  await create(page, "Corporate LDAP");
  await expect(page.locator('nav.steps li[data-step="1"]')).toHaveAttribute("data-state", "done");

  // Step 2: the changelog password decryption key.
  await gotoStep(page, 2);
  f = page.locator("form.object-form");
  await fill(f, "changelog-password-decryption-key", DECRYPTION_KEY);
  await f.getByRole("button", { name: "Save" }).click();
  await expect(page.locator(".flash")).toHaveText("Saved.");
  await expect(field(f, "changelog-password-decryption-key").locator("input[type=password]")).toHaveAttribute(
    "placeholder",
    /stored/,
  );

  // Step 3: SCIM 2.0 server with a bearer token; a wrong token is reported, the right one works.
  await gotoStep(page, 3);
  f = newForm(page);
  await fill(f, "name", "SCIM Service");
  await fill(f, "base-url", scim.baseUrl);
  await choose(f, "auth.type", "bearer-token");
  await fill(f, "auth.token", "not-the-token");
  await f.getByRole("button", { name: "Test connection" }).click();
  await expect(f.locator(".probe")).toContainText("refused with HTTP 401");
  await fill(f, "auth.token", SCIM_TOKEN);
  await f.getByRole("button", { name: "Test connection" }).click();
  const scimProbe = f.locator(".probe");
  await expect(scimProbe.locator(".headline")).toHaveText("Connected — ready.");
  await expect(scimProbe).toContainText("User at /Users");
  await expect(scimProbe).toContainText("supported (max 1000 operations, 1048576 bytes per request)");
  await create(page, "SCIM Service");

  // Step 4: one mapping of each of the seven types. The first one is submitted without an
  // attribute usage and gets the error next to that field, with everything typed kept.
  await gotoStep(page, 4);
  f = newForm(page);
  await fill(f, "name", "User Name");
  await fill(f, "scim-attribute-name", "userName");
  await choose(f, "syntax.type", "string");
  await fill(f, "syntax.ldap-attribute", "uid");
  await setCheckbox(f, "syntax.single-valued", true);
  await f.getByRole("button", { name: "Create" }).click();
  const usageError = f.locator('[data-error-for="attribute-usage"]');
  await expect(usageError).toContainText("needs at least one of fetch");
  await expect(field(f, "attribute-usage")).toHaveClass(/invalid/);
  await expect(field(f, "name").locator("input")).toHaveValue("User Name");
  await expect(field(f, "syntax.ldap-attribute").locator("input")).toHaveValue("uid");
  await tick(f, "attribute-usage", ALL_USAGES);
  await create(page, "User Name");

  await createMapping(page, { name: "Given Name", scim: "givenName", type: "string", ldap: "givenName", single: true });
  await createMapping(page, { name: "Family Name", scim: "familyName", type: "string", ldap: "sn", single: true });
  await createMapping(page, { name: "Name", scim: "name", type: "composed-complex", subs: ["Given Name", "Family Name"] });
  await createMapping(page, {
    name: "Active", scim: "active", type: "boolean", ldap: "nsAccountLock",
    extra: async (form) => {
      await setCheckbox(form, "syntax.invert-value", true);
      await choose(form, "syntax.default-value", "true");
    },
  });
  await createMapping(page, { name: "Employee Number", scim: "employeeNumber", type: "number", ldap: "employeeNumber", single: true });
  await createMapping(page, {
    name: "Enterprise User", scim: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    type: "composed-complex", subs: ["Employee Number"],
  });
  await createMapping(page, { name: "Hire Date", scim: "hireDate", type: "date-time", ldap: "createTimestamp", single: true });
  await createMapping(page, { name: "Home Address", scim: "formatted", type: "postal-address", ldap: "homePostalAddress", single: true });
  await createMapping(page, {
    name: "Emails", scim: "emails", type: "json-formatted-complex", ldap: "emailJSON", single: false,
    extra: async (form) => {
      await choose(form, "failed-mapping-behavior", "ignore-individual-values");
      await setCheckbox(form, "always-patch-with-replace", true);
    },
  });
  await expect(page.locator("table.objects tbody tr")).toHaveCount(10);
  await expect(page.locator('tr[data-object="Name"] td.facts')).toContainText("composed-complex: [Given Name, Family Name] → name");

  // Step 5: the /Users endpoint.
  await gotoStep(page, 5);
  f = newForm(page);
  await fill(f, "name", "Users");
  await fill(f, "endpoint-path", "Users");
  await fill(f, "schema-urns", "urn:ietf:params:scim:schemas:core:2.0:User\nurn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
  await tick(f, "attribute-mappings", ["User Name", "Name", "Active", "Enterprise User", "Emails"]);
  await tick(f, "search-attribute-mappings", ["User Name"]);
  await create(page, "Users");

  // Step 6: destination (the only server is preselected).
  await gotoStep(page, 6);
  f = newForm(page);
  await fill(f, "name", "SCIM Destination");
  await expect(field(f, "server").locator("select")).toHaveValue("SCIM Service");
  await tick(f, "endpoint-mappings", ["Users"]);
  await choose(f, "update-method", "patch");
  await choose(f, "query-method", "get");
  await create(page, "SCIM Destination");

  // Step 7: sync pipe.
  await gotoStep(page, 7);
  f = newForm(page);
  await fill(f, "name", "LDAP to SCIM");
  await fill(f, "worker-count", "4");
  await fill(f, "max-ops-per-second", "200");
  await create(page, "LDAP to SCIM");

  // Step 8: a sync class whose filter is broken first; the error names the filter and position.
  await gotoStep(page, 8);
  f = newForm(page);
  await fill(f, "name", "People");
  await fill(f, "include-base-dns", "ou=people,dc=example,dc=com");
  await fill(f, "include-filter", "(&(objectClass=inetOrgPerson)(uid=*)");
  await fill(f, "evaluation-order", "10");
  await choose(f, "endpoint-mapping", "Users");
  await f.getByRole("button", { name: "Create" }).click();
  const filterError = f.locator('[data-error-for="include-filter"]');
  await expect(filterError).toContainText("is not a valid LDAP filter");
  await expect(filterError).toContainText("expected ')' but the filter ended (at character 37)");
  await expect(field(f, "include-filter").locator("input")).toHaveValue("(&(objectClass=inetOrgPerson)(uid=*)");
  await fill(f, "include-filter", "(&(objectClass=inetOrgPerson)(uid=*))");
  await create(page, "People");

  // Step 9: startpoint at the end of the accesslog, read from slapd after a change was made.
  await ldapModify(slapd.port, "dn: uid=early,ou=people,dc=example,dc=com\nchangetype: add\nobjectClass: inetOrgPerson\nuid: early\ncn: Early\nsn: Bird\n");
  await gotoStep(page, 9);
  const sp = page.locator('form.startpoint[data-pipe="LDAP to SCIM"]');
  await expect(sp.locator("[data-current]")).toHaveText("No startpoint set yet.");
  await sp.getByRole("button", { name: "Set startpoint" }).click();
  await expect(sp.locator(".flash")).toContainText("Startpoint of \"LDAP to SCIM\" set: end of changelog: after reqStart 20");

  // Step 10: resync with live progress. Five more people and one with two uids, which the
  // single-valued User Name mapping (reject on failure) refuses.
  let ldif = "";
  for (let i = 1; i <= 5; i++) {
    ldif += `dn: uid=e2e${i},ou=people,dc=example,dc=com\nchangetype: add\nobjectClass: inetOrgPerson\nuid: e2e${i}\ncn: Person ${i}\ngivenName: Person\nsn: Number${i}\n\n`;
  }
  ldif += "dn: uid=twice,ou=people,dc=example,dc=com\nchangetype: add\nobjectClass: inetOrgPerson\nuid: twice\nuid: twice2\ncn: Twice\nsn: Twice\n\n";
  await ldapModify(slapd.port, ldif);
  await gotoStep(page, 10);
  const panel = page.locator('section.resync[data-pipe="LDAP to SCIM"]');
  await page.evaluate(() => ((window as any).__noReload = true));
  await panel.locator('input[name="dry-run"]').check();
  await panel.getByRole("button", { name: "Start resync" }).click();
  const progress = panel.locator(".progress");
  await expect(progress).toHaveAttribute("data-state", "finished");
  await expect(progress.locator('[data-count="created"]')).toHaveText("6");
  await expect(progress).toContainText("Would create");
  await expect(progress).toContainText("nothing was changed");
  const scimUsers = async () =>
    (await (await page.request.get(`${scim.baseUrl}/Users`, { headers: { Authorization: `Bearer ${SCIM_TOKEN}` } })).json())
      .totalResults;
  expect(await scimUsers()).toBe(0);
  await panel.locator('input[name="dry-run"]').uncheck();
  await panel.locator('input[name="rate"]').fill("50");
  await panel.getByRole("button", { name: "Start resync" }).click();
  await expect(progress).toHaveAttribute("data-state", "finished");
  await expect(progress.locator('[data-count="retrieved"]')).toHaveText("9");
  await expect(progress.locator('[data-count="created"]')).toHaveText("6");
  await expect(progress.locator('[data-count="rejected"]')).toHaveText("1");
  await expect(progress.locator('[data-count="out-of-scope"]')).toHaveText("2");
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  expect(await scimUsers()).toBe(6);
  // The resync listed the empty Users endpoint instead of searching per entry, and wrote in
  // Bulk requests, which the server's connection test said it offers.
  const paths = panel.getByTestId("resync-paths");
  await expect(paths).toHaveText("6 found from a listing of their endpoint, 0 by a search each; writes in SCIM Bulk requests");
  await expect(page.locator('nav.steps li[data-step="10"]')).toHaveAttribute("data-state", "done");
  const rejected = panel.locator('li[data-rejected-dn="uid=twice,ou=people,dc=example,dc=com"]');
  await expect(rejected).toContainText("2 values for a single-valued mapping");
  await rejected.locator("summary").click();
  await expect(rejected.locator("pre").first()).toContainText('"sn": [');
  await page.screenshot({ path: "test-results/step-10-resync.png", fullPage: true });

  // Step 11: realtime sync started; a change made in LDAP now reaches SCIM by itself.
  await gotoStep(page, 11);
  const realtimeRow = page.locator('tr[data-pipe="LDAP to SCIM"]');
  await realtimeRow.getByRole("button", { name: "Start" }).click();
  await expect(page.locator(".flash")).toHaveText('Realtime sync of "LDAP to SCIM" started.');
  await realtimeRow.getByRole("link", { name: "LDAP to SCIM" }).click();
  await expect(page.locator('h1[data-hydrated="true"]')).toBeVisible();
  await expect(page.locator(".pipe-status")).toHaveAttribute("data-state", "running", { timeout: 20_000 });
  await ldapModify(slapd.port, "dn: uid=e2e-live,ou=people,dc=example,dc=com\nchangetype: add\nobjectClass: inetOrgPerson\nuid: e2e-live\ncn: Live\ngivenName: Live\nsn: Realtime\n\n");
  await expect(page.locator('.pipe-status [data-count="created"]')).toHaveText("1");
  expect(await scimUsers()).toBe(7);

  // A mapping in use cannot be deleted; the reason names who uses it.
  await gotoStep(page, 4);
  const row = page.locator('tr[data-object="User Name"]');
  await row.getByRole("button", { name: "Delete" }).click();
  await row.getByRole("button", { name: "Confirm delete" }).click();
  await expect(page.locator("[data-delete-refused]")).toContainText(
    'SCIM 2.0 attribute mapping "User Name" is still used by SCIM 2.0 endpoint mapping "Users"',
  );
  await expect(row).toBeVisible();

  // Editing keeps the stored password when the field is left blank.
  await gotoStep(page, 1);
  await page.locator('tr[data-object="Corporate LDAP"]').getByRole("link", { name: "Edit" }).click();
  await expect(page.locator('h1[data-hydrated="true"]')).toHaveText("Edit “Corporate LDAP”");
  f = page.locator("form.object-form");
  await expect(field(f, "name").locator("input")).toBeDisabled();
  await expect(field(f, "bind-password").locator("input")).toHaveValue("");
  await fill(f, "batch-size", "250");
  await f.getByRole("button", { name: "Test connection" }).click();
  await expect(f.locator(".probe .headline")).toHaveText("Connected — ready.");
  await f.getByRole("button", { name: "Save changes" }).click();
  await expect(page).toHaveURL(`${scimsync.url}/step/1`);

  // Secrets are in no page and not in clear text in the database.
  for (const path of ["/step/1", "/step/1/edit/Corporate%20LDAP", "/step/2", "/step/3/edit/SCIM%20Service"]) {
    const html = await (await page.request.get(`${scimsync.url}${path}`)).text();
    for (const secret of [BIND_PASSWORD, SCIM_TOKEN, DECRYPTION_KEY]) expect(html, `${path}`).not.toContain(secret);
  }
  // Nor the server's log.
  for (const secret of [BIND_PASSWORD, SCIM_TOKEN, DECRYPTION_KEY]) expect(scimsync.proc!.log(), "server log").not.toContain(secret);
  for (const file of readdirSync(scimsync.dataDir).filter((n) => n.startsWith("scimsync.db"))) {
    const bytes = readFileSync(join(scimsync.dataDir, file)).toString("latin1");
    for (const secret of [BIND_PASSWORD, SCIM_TOKEN, DECRYPTION_KEY]) expect(bytes, file).not.toContain(secret);
  }

  await page.goto(scimsync.url);
  await expect(page.locator('h1[data-hydrated="true"]')).toBeVisible();
  await page.screenshot({ path: "test-results/overview.png", fullPage: true });

  // Restart: everything saved is still there. (The overview's live stream is left first: a
  // server going away mid-stream is a network error in the browser's console.)
  await page.goto("about:blank");
  await scimsync.restart();
  await page.goto(scimsync.url);
  await expect(page.locator('h1[data-hydrated="true"]')).toBeVisible();
  // Realtime sync comes back by itself after the restart.
  await page.goto(`${scimsync.url}/pipes/LDAP%20to%20SCIM`);
  await expect(page.locator(".pipe-status")).toHaveAttribute("data-state", "running", { timeout: 20_000 });
  await page.goto(scimsync.url);
  await expect(page.locator('h1[data-hydrated="true"]')).toBeVisible();
  for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) {
    await expect(page.locator(`nav.steps li[data-step="${n}"]`)).toHaveAttribute("data-state", "done");
  }
  const expected: [number, string[]][] = [
    [1, ["Corporate LDAP"]],
    [3, ["SCIM Service"]],
    [4, ["User Name", "Given Name", "Family Name", "Name", "Active", "Employee Number", "Enterprise User", "Hire Date", "Home Address", "Emails"]],
    [5, ["Users"]],
    [6, ["SCIM Destination"]],
    [7, ["LDAP to SCIM"]],
    [8, ["People"]],
  ];
  for (const [n, names] of expected) {
    await gotoStep(page, n);
    await expect(page.locator("table.objects tbody tr td.name")).toHaveText(names);
  }
  await gotoStep(page, 1);
  await expect(page.locator('tr[data-object="Corporate LDAP"] td.facts')).toContainText("accesslog cn=accesslog");
  await gotoStep(page, 9);
  await expect(page.locator('form.startpoint[data-pipe="LDAP to SCIM"] [data-current]')).toContainText(
    "Current startpoint — end of changelog: after reqStart",
  );
  await gotoStep(page, 2);
  await expect(
    field(page.locator("form.object-form"), "changelog-password-decryption-key").locator("input[type=password]"),
  ).toHaveAttribute("placeholder", /stored/);

  expect(errors).toEqual([]);
});
