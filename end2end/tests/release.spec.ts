// The release binary as an admin would run it on a server: alone in an empty directory, with
// no site, no Leptos variables and no cargo-leptos (SCIMSYNC_RELEASE_BIN: this spec starts it),
// or as the Debian package's service runs it (SCIMSYNC_RELEASE_URL, with
// SCIMSYNC_RELEASE_ADMIN_PASSWORD: scripts/test-package.sh started it). Its console must come
// from itself —
// styled, hydrated, the step 1 form validating — its site files brotli-compressed with an
// ETag and a year of caching, and it must say which version and commit it is. Measures what
// the README reports: the WebAssembly's size as sent, and how soon pages are interactive.
import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { request as httpRequest } from "node:http";
import { statSync } from "node:fs";
import { Scimsync, signIn } from "../support/servers";

const release = process.env.SCIMSYNC_RELEASE_BIN;
const installed = process.env.SCIMSYNC_RELEASE_URL;
let scimsync: Scimsync | undefined;
let url = "";
let adminPassword: string | undefined;

test.beforeAll(async () => {
  if (!release) throw new Error("SCIMSYNC_RELEASE_BIN is not set: scripts/test.sh builds the release with scripts/release.sh");
  if (installed) {
    url = installed;
    adminPassword = process.env.SCIMSYNC_RELEASE_ADMIN_PASSWORD;
    if (!adminPassword) throw new Error("SCIMSYNC_RELEASE_ADMIN_PASSWORD is not set (the password the first start printed)");
  } else {
    scimsync = new Scimsync(release);
    await scimsync.start();
    url = scimsync.url;
  }
});

test.afterAll(async () => {
  await scimsync?.stop();
  scimsync?.cleanup();
});

/** GET with the given headers: status, headers and the body's length as sent. */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; bytes: number }> {
  return new Promise((ok, fail) => {
    const req = httpRequest(url, { headers }, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => (bytes += chunk.length));
      res.on("end", () => ok({ status: res.statusCode ?? 0, headers: res.headers, bytes }));
    });
    req.on("error", fail);
    req.end();
  });
}

test("the release binary serves its own console", async ({ page }) => {
  const version = execFileSync(release!, ["--version"]).toString();
  expect(version).toMatch(/^scimsync \d+\.\d+\.\d+ \(commit [0-9a-f]{7,}\)/);
  if (scimsync) expect(scimsync.proc!.log()).not.toContain("LEPTOS_OUTPUT_NAME");

  const started = Date.now();
  await page.goto(`${url}/login`);
  await expect(page.locator("#username")).toBeVisible();
  const signInReady = Date.now() - started;
  // Styled: the stylesheet came from the binary.
  await expect(page.locator("main.login")).toHaveCSS("max-width", /px/);
  await signIn(page, url, "admin", adminPassword);
  const before = Date.now();
  await page.goto(`${url}/step/1`);
  await expect(page.locator('h1[data-hydrated="true"]')).toBeVisible();
  const stepInteractive = Date.now() - before;
  // The form hydrated and validates: an empty create names the fields it needs.
  const form = page.locator("section.create form.object-form");
  await form.getByRole("button", { name: "Create" }).click();
  await expect(form.locator('[data-error-for="name"]')).toBeVisible();
  await expect(form.locator('[data-field="name"]')).toHaveClass(/invalid/);

  // The site's files: under a content-hash path, compressed, cached for a year, revalidated.
  const html = await (await page.request.get(`${url}/step/1`)).text();
  const pkg = html.match(/href="\/(pkg\/[0-9a-f]{16})\/scimsync\.css"/)?.[1];
  expect(pkg, "the stylesheet's path holds the site's hash").toBeTruthy();
  const wasm = `${url}/${pkg}/scimsync.wasm`;
  const br = await get(wasm, { "Accept-Encoding": "gzip, deflate, br" });
  expect(br.status).toBe(200);
  expect(br.headers["content-encoding"]).toBe("br");
  expect(br.headers["content-type"]).toBe("application/wasm");
  expect(br.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
  const gzip = await get(wasm, { "Accept-Encoding": "gzip" });
  expect(gzip.headers["content-encoding"]).toBe("gzip");
  const plain = await get(wasm, {});
  expect(plain.headers["content-encoding"]).toBeUndefined();
  const again = await get(wasm, { "If-None-Match": String(br.headers["etag"]) });
  expect(again.status).toBe(304);
  console.log(
    `release: binary ${(statSync(release!).size / 1e6).toFixed(1)} MB; wasm ${(plain.bytes / 1e6).toFixed(2)} MB, ` +
      `sent ${(br.bytes / 1e6).toFixed(2)} MB with brotli (${(gzip.bytes / 1e6).toFixed(2)} MB gzip); ` +
      `sign-in page ready in ${signInReady} ms, step 1 interactive ${stepInteractive} ms after navigating`,
  );
});
