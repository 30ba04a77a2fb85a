// Real servers for end-to-end tests: scimsync (the binary under test), OpenLDAP slapd
// (scripts/testenv/slapd.sh, shared with the Rust tests) and scim2-server. Each runs on a
// free loopback port with its own temp directory. A missing binary fails the test.
import { spawn, ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repo = resolve(__dirname, "../..");

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => ok(port));
    });
    srv.on("error", fail);
  });
}

async function waitForPort(port: number, name: string, child: ChildProcess, log: () => string) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before listening:\n${log()}`);
    const open = await new Promise<boolean>((ok) => {
      const s = connect(port, "127.0.0.1", () => { s.end(); ok(true); });
      s.on("error", () => ok(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not listen on ${port} within 60 s:\n${log()}`);
}

function need(path: string, hint: string): string {
  if (!existsSync(path)) throw new Error(`${path} not found: ${hint}`);
  return path;
}

export class Proc {
  private out = "";
  constructor(readonly name: string, readonly child: ChildProcess, readonly port: number) {
    child.stdout?.on("data", (d) => (this.out += d));
    child.stderr?.on("data", (d) => (this.out += d));
  }
  log(): string {
    return this.out;
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

export async function startSlapd(): Promise<Proc & { dir: string }> {
  need("/usr/sbin/slapd", "apt-get install slapd ldap-utils");
  const dir = mkdtempSync(join(tmpdir(), "scimsync-slapd-"));
  const port = await freePort();
  const child = spawn("bash", [join(repo, "scripts/testenv/slapd.sh"), dir, String(port)]);
  const proc = Object.assign(new Proc("slapd", child, port), { dir });
  await waitForPort(port, "slapd", child, () => proc.log());
  return proc;
}

export async function startScim2Server(token: string): Promise<Proc & { baseUrl: string }> {
  const bin = process.env.SCIMSYNC_SCIM2_SERVER ?? "/opt/scim2/bin/scim2-server";
  need(bin, "python3 -m venv /opt/scim2 && /opt/scim2/bin/pip install scim2-server==0.8.3");
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "scimsync-scim2-"));
  const child = spawn("bash", [join(repo, "scripts/testenv/scim2-server.sh"), dir, String(port), token], {
    env: { ...process.env, SCIMSYNC_SCIM2_SERVER: bin },
  });
  const proc = Object.assign(new Proc("scim2-server", child, port), { baseUrl: `http://127.0.0.1:${port}/v2` });
  await waitForPort(port, "scim2-server", child, () => proc.log());
  return proc;
}

/** The password the first admin gets (SCIMSYNC_ADMIN_PASSWORD) in every test instance. */
export const ADMIN_PASSWORD = "end-to-end admin password";

/** Signs in on the console's sign-in page and waits for the page it leads to. */
export async function signIn(page: import("@playwright/test").Page, url: string, username = "admin", password = ADMIN_PASSWORD): Promise<void> {
  await page.goto(`${url}/login`);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/login")), page.click('button[type="submit"]')]);
}

/**
 * A scimsync instance with its own data directory; `restart` keeps the directory. With
 * `release`, the given release binary runs as installed: from an empty directory, with no
 * site and no Leptos or site variables, serving the console it carries.
 */
export class Scimsync {
  readonly dataDir = mkdtempSync(join(tmpdir(), "scimsync-data-"));
  proc?: Proc;
  port = 0;

  constructor(readonly release?: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.release) return this.startRelease(this.release);
    const bin = process.env.SCIMSYNC_BIN ?? join(repo, "target/debug/scimsync");
    need(bin, "build it with `cargo leptos build` (or set SCIMSYNC_BIN)");
    this.port = this.port || (await freePort());
    const siteRoot = process.env.SCIMSYNC_SITE_ROOT ?? join(repo, "target/site");
    need(join(siteRoot, "pkg/scimsync.js"), "build the site with `cargo leptos build` (or set SCIMSYNC_SITE_ROOT)");
    const child = spawn(bin, ["serve", "--listen", `127.0.0.1:${this.port}`], {
      cwd: repo,
      env: {
        ...process.env,
        SCIMSYNC_DATA_DIR: this.dataDir,
        SCIMSYNC_ADMIN_PASSWORD: ADMIN_PASSWORD,
        LEPTOS_SITE_ROOT: siteRoot,
        LEPTOS_OUTPUT_NAME: "scimsync",
      },
    });
    this.proc = new Proc("scimsync", child, this.port);
    await waitForPort(this.port, "scimsync", child, () => this.proc!.log());
  }

  private async startRelease(bin: string): Promise<void> {
    need(bin, "build it with scripts/release.sh");
    this.port = this.port || (await freePort());
    const empty = mkdtempSync(join(tmpdir(), "scimsync-empty-"));
    const env: Record<string, string | undefined> = { ...process.env };
    for (const name of Object.keys(env)) {
      if (name.startsWith("LEPTOS_") || name === "SCIMSYNC_SITE_ROOT") delete env[name];
    }
    const child = spawn(bin, ["serve", "--listen", `127.0.0.1:${this.port}`], {
      cwd: empty,
      env: { ...env, SCIMSYNC_DATA_DIR: this.dataDir, SCIMSYNC_ADMIN_PASSWORD: ADMIN_PASSWORD },
    });
    this.proc = new Proc("scimsync", child, this.port);
    await waitForPort(this.port, "scimsync", child, () => this.proc!.log());
  }

  async restart(): Promise<void> {
    await this.proc?.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
  }

  cleanup(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Applies LDIF changes to the test slapd as the directory manager. */
export async function ldapModify(port: number, ldif: string): Promise<void> {
  const child = spawn("ldapmodify", ["-x", "-H", `ldap://127.0.0.1:${port}`, "-D", "cn=Manager,dc=example,dc=com", "-w", "secret"]);
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  child.stdin.end(ldif);
  const code = await new Promise<number | null>((r) => child.on("exit", r));
  if (code !== 0) throw new Error(`ldapmodify failed (${code}): ${err}`);
}

/** Runs the scimsync CLI against a data directory; throws with its output when it fails. */
export function scimsyncCli(dataDir: string, args: string[], env: Record<string, string> = {}): string {
  const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
  const bin = process.env.SCIMSYNC_BIN ?? join(repo, "target/debug/scimsync");
  const out = spawnSync(bin, args, { env: { ...process.env, ...env, SCIMSYNC_DATA_DIR: dataDir }, encoding: "utf8" });
  if (out.status !== 0) throw new Error(`scimsync ${args.join(" ")} failed (${out.status}):\n${out.stdout}\n${out.stderr}`);
  return out.stdout;
}

/** The engine's resync test configuration, pointed at these servers. */
export function testConfig(ldapPort: number, scimBaseUrl: string, token: string, adjust: (config: any) => void = () => {}): string {
  const { readFileSync } = require("node:fs") as typeof import("node:fs");
  const text = readFileSync(join(repo, "engine/tests/fixtures/resync-config.json"), "utf8")
    .replace("${LDAP}", `127.0.0.1:${ldapPort}`)
    .replace("${SCIM}", scimBaseUrl)
    .replace("${TOKEN}", token);
  const config = JSON.parse(text);
  config["sync-classes"][0]["include-base-dns"] = [];
  adjust(config);
  return JSON.stringify(config);
}

/** slapd, scim2-server and a scimsync with the engine's test configuration imported (then
 *  `prepare`, e.g. a startpoint, run against its data directory) and started. */
export async function startConfigured(
  token: string,
  prepare: (dataDir: string) => void = () => {},
  adjust: (config: any) => void = () => {},
): Promise<{ scimsync: Scimsync; slapd: Proc & { dir: string }; scim: Proc & { baseUrl: string } }> {
  const [slapd, scim] = await Promise.all([startSlapd(), startScim2Server(token)]);
  const scimsync = new Scimsync();
  const { writeFileSync } = require("node:fs") as typeof import("node:fs");
  const file = join(scimsync.dataDir, "config.json");
  writeFileSync(file, testConfig(slapd.port, scim.baseUrl, token, adjust));
  scimsyncCli(scimsync.dataDir, ["config", "import", file]);
  prepare(scimsync.dataDir);
  await scimsync.start();
  return { scimsync, slapd, scim };
}

// Waits until the page's client code has taken over (pages mark their heading).
export async function hydrated(page: import("@playwright/test").Page): Promise<void> {
  const { expect } = require("@playwright/test") as typeof import("@playwright/test");
  await expect(page.locator('h1[data-hydrated="true"]')).toBeVisible();
}

// The userNames of a SCIM service's users, as it answers them.
export async function scimUserNames(page: import("@playwright/test").Page, baseUrl: string, token: string): Promise<string[]> {
  const answer = await page.request.get(`${baseUrl}/Users?count=1000`, { headers: { Authorization: `Bearer ${token}` } });
  return ((await answer.json()).Resources ?? []).map((u: any) => u.userName).sort();
}

// The servers of a spec whose configuration is the test fixture's (see startConfigured):
// started before its tests and stopped after them. The fields are set once they run.
export function configuredServers(
  token: string,
  prepare: (dataDir: string) => void = () => {},
  adjust: (config: any) => void = () => {},
): { scimsync: Scimsync; slapd: Proc & { dir: string }; scim: Proc & { baseUrl: string } } {
  const { test } = require("@playwright/test") as typeof import("@playwright/test");
  const servers = {} as { scimsync: Scimsync; slapd: Proc & { dir: string }; scim: Proc & { baseUrl: string } };
  test.beforeAll(async () => {
    Object.assign(servers, await startConfigured(token, prepare, adjust));
  });
  test.afterAll(async () => {
    await Promise.all([servers.scimsync?.stop(), servers.slapd?.stop(), servers.scim?.stop()]);
    servers.scimsync?.cleanup();
  });
  return servers;
}
