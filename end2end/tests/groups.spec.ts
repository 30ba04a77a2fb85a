// Groups in the console: an admin adds a Reference mapping (group members → SCIM ids) and a
// value-path mapping (mail → emails[type eq "work"].value) to a users-only setup, sees on
// step 5 which endpoint references which and the order resync writes them in, runs a resync
// and finds the group's members on the resync page's counts — and in the SCIM service.
import { test, expect, Page, Locator } from "@playwright/test";
import { ldapModify, signIn, configuredServers } from "../support/servers";

const TOKEN = "groups-e2e-token";
const PIPE = "LDAP to SCIM";
const ALL_USAGES = ["fetch", "create-during-realtime-sync", "create-during-resync", "update-during-realtime-sync", "update-during-resync"];

const servers = configuredServers(TOKEN);

async function gotoStep(page: Page, n: number) {
  await page.goto(`${servers.scimsync.url}/step/${n}`);
  await expect(page.locator('h1[data-hydrated="true"]')).toBeVisible();
}
async function edit(page: Page, step: number, name: string) {
  await page.goto(`${servers.scimsync.url}/step/${step}/edit/${encodeURIComponent(name)}`);
  await expect(page.locator('h1[data-hydrated="true"]')).toHaveText(`Edit “${name}”`);
  return page.locator("form.object-form");
}
const newForm = (page: Page) => page.locator("section.create form.object-form");
const field = (form: Locator, key: string) => form.locator(`[data-field="${key}"]`);
const fill = (form: Locator, key: string, value: string) =>
  field(form, key).locator("input[type=text], textarea").first().fill(value);
const choose = (form: Locator, key: string, value: string) => field(form, key).locator("select").selectOption(value);
async function tick(form: Locator, key: string, values: string[], on = true) {
  for (const v of values) await field(form, key).locator(`input[value="${v}"]`).setChecked(on);
}
async function create(page: Page, name: string) {
  await newForm(page).getByRole("button", { name: "Create" }).click();
  await expect(page.locator(".flash")).toHaveText(`Saved “${name}”.`);
}
async function saveEdit(page: Page, form: Locator, step: number) {
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(page).toHaveURL(`${servers.scimsync.url}/step/${step}`);
}

async function scimList(page: Page, endpoint: string): Promise<any[]> {
  const r = await page.request.get(`${servers.scim.baseUrl}/${endpoint}?count=1000`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  return (await r.json()).Resources ?? [];
}

test("an admin maps group members and work emails, and sees the members on the resync page", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page, servers.scimsync.url);

  // Step 4: the group's name, then step 5 its endpoint.
  await gotoStep(page, 4);
  let f = newForm(page);
  await fill(f, "name", "Group Name");
  await fill(f, "scim-attribute-name", "displayName");
  await choose(f, "syntax.type", "string");
  await fill(f, "syntax.ldap-attribute", "cn");
  await field(f, "syntax.single-valued").locator("input[type=checkbox]").check();
  await tick(f, "attribute-usage", ALL_USAGES);
  await create(page, "Group Name");
  await gotoStep(page, 5);
  f = newForm(page);
  await fill(f, "name", "Groups");
  await fill(f, "endpoint-path", "Groups");
  await fill(f, "schema-urns", "urn:ietf:params:scim:schemas:core:2.0:Group");
  await tick(f, "attribute-mappings", ["Group Name"]);
  await tick(f, "search-attribute-mappings", ["Group Name"]);
  await create(page, "Groups");

  // Step 4: a Reference mapping; its endpoint mappings are picked from a list.
  await gotoStep(page, 4);
  f = newForm(page);
  await fill(f, "name", "Members");
  await fill(f, "scim-attribute-name", "members");
  await choose(f, "syntax.type", "reference");
  await fill(f, "syntax.ldap-attribute", "member");
  await expect(field(f, "syntax.endpoint-mappings")).toContainText("Users");
  await tick(f, "syntax.endpoint-mappings", ["Users", "Groups"]);
  await tick(f, "attribute-usage", ALL_USAGES);
  await create(page, "Members");
  await expect(page.locator('tr[data-object="Members"] td.facts')).toContainText("reference: member (DNs of Users, Groups) → members");

  // A value-path mapping: first mistyped, and the error says where; the help shows examples.
  f = newForm(page);
  await expect(field(f, "scim-attribute-name")).toContainText('emails[type eq "work"].value');
  await fill(f, "name", "Work Email");
  await fill(f, "scim-attribute-name", 'emails[type eq "work".value');
  await choose(f, "syntax.type", "string");
  await fill(f, "syntax.ldap-attribute", "mail");
  await field(f, "syntax.single-valued").locator("input[type=checkbox]").check();
  await tick(f, "attribute-usage", ALL_USAGES);
  await f.getByRole("button", { name: "Create" }).click();
  await expect(f.locator('[data-error-for="scim-attribute-name"]')).toContainText("expected ']', found '.' (at character 22)");
  await fill(f, "scim-attribute-name", 'emails[type eq "work"].value');
  await create(page, "Work Email");

  // Step 5: Users gets the work email instead of its JSON emails; Groups gets its members.
  f = await edit(page, 5, "Users");
  await tick(f, "attribute-mappings", ["Emails"], false);
  await tick(f, "attribute-mappings", ["Work Email"]);
  await saveEdit(page, f, 5);
  f = await edit(page, 5, "Groups");
  await tick(f, "attribute-mappings", ["Members"]);
  await saveEdit(page, f, 5);
  const graph = page.locator("section.references");
  await expect(graph.locator('[data-reference="Groups→Users"]')).toContainText("Members");
  await expect(graph.locator('[data-reference="Groups→Groups"]')).toBeVisible();
  await expect(graph.locator("[data-endpoint-order] li")).toHaveText(["Users", "Groups"]);
  await page.screenshot({ path: "test-results/step-5-references.png", fullPage: true });

  // Step 6 and 8: the destination writes groups, and a class sends groupOfNames there.
  f = await edit(page, 6, "Test Destination");
  await tick(f, "endpoint-mappings", ["Groups"]);
  await saveEdit(page, f, 6);
  await gotoStep(page, 8);
  f = newForm(page);
  await fill(f, "name", "Groups");
  await fill(f, "include-base-dns", "ou=groups,dc=example,dc=com");
  await fill(f, "include-filter", "(objectClass=groupOfNames)");
  await fill(f, "evaluation-order", "20");
  await choose(f, "endpoint-mapping", "Groups");
  await create(page, "Groups");

  // The directory: three people with mail, a group of two of them, and a group holding it.
  let ldif = "dn: cn=everyone,ou=groups,dc=example,dc=com\nchangetype: add\nobjectClass: groupOfNames\ncn: everyone\n" +
    "member: cn=staff,ou=groups,dc=example,dc=com\nmember: uid=g3,ou=people,dc=example,dc=com\n\n";
  for (const i of [1, 2, 3]) {
    ldif += `dn: uid=g${i},ou=people,dc=example,dc=com\nchangetype: add\nobjectClass: inetOrgPerson\nuid: g${i}\ncn: Person ${i}\n` +
      `sn: P${i}\nmail: g${i}@work.example\n\n`;
  }
  ldif += "dn: cn=staff,ou=groups,dc=example,dc=com\nchangetype: add\nobjectClass: groupOfNames\ncn: staff\n" +
    "member: uid=g1,ou=people,dc=example,dc=com\nmember: uid=g2,ou=people,dc=example,dc=com\n\n";
  await ldapModify(servers.slapd.port, ldif);

  // Step 10: the resync page counts the members it added.
  await gotoStep(page, 10);
  const panel = page.locator(`section.resync[data-pipe="${PIPE}"]`);
  await panel.getByRole("button", { name: "Start resync" }).click();
  const progress = panel.locator(".progress");
  await expect(progress).toHaveAttribute("data-state", "finished");
  await expect(progress.locator('[data-count="created"]')).toHaveText("5");
  await expect(progress.locator('[data-count="members-added"]')).toHaveText("4");
  await expect(progress.locator('[data-count="members-removed"]')).toHaveText("0");
  await expect(progress.locator('[data-count="rejected"]')).toHaveText("0");
  await expect(panel.locator("[data-pending-references]")).toHaveAttribute("data-pending-references", "0");
  await page.screenshot({ path: "test-results/step-10-groups.png", fullPage: true });

  // What the SCIM service holds: members are the users' and the nested group's ids.
  const users = await scimList(page, "Users");
  const groups = await scimList(page, "Groups");
  const id = (list: any[], key: string, value: string) => list.find((r) => r[key] === value)?.id;
  const ids = (g: any) => (g.members ?? []).map((m: any) => m.value).sort();
  const staff = groups.find((g) => g.displayName === "staff");
  const everyone = groups.find((g) => g.displayName === "everyone");
  expect(ids(staff)).toEqual([id(users, "userName", "g1"), id(users, "userName", "g2")].sort());
  expect(ids(everyone)).toEqual([id(groups, "displayName", "staff"), id(users, "userName", "g3")].sort());
  expect(everyone.members.find((m: any) => m.value === staff.id).type).toBe("Group");
  const g1 = users.find((u) => u.userName === "g1");
  expect(g1.emails).toEqual([{ type: "work", value: "g1@work.example" }]);

  // A second resync: everything in sync, nothing added.
  await panel.getByRole("button", { name: "Start resync" }).click();
  await expect(progress.locator('[data-count="in-sync"]')).toHaveText("5");
  await expect(progress).toHaveAttribute("data-state", "finished");
  await expect(progress.locator('[data-count="members-added"]')).toHaveText("0");
  expect(errors).toEqual([]);
});
