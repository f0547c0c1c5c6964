import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleBrowser, consoleLink, eventually, launchBrowser } from "../support/node/browser.ts";
import { type DevServer, devToken, startDevServer } from "../support/node/dev-server.ts";
import { fixturePath, referenceFor } from "../support/node/reference.ts";

describe("web console: sign-in, job summary, layout", () => {
  let server: DevServer;
  let browser: ConsoleBrowser;
  let link: string;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDevServer(), launchBrowser()]);
    link = await consoleLink(server.output);
  });

  afterAll(async () => {
    await Promise.all([browser?.close(), server?.stop()]);
  });

  it("opens signed in from the link npm run dev prints, and takes the token out of the address bar", async () => {
    const { page, errors, screenshot } = await browser.open();
    await page.goto(link);
    await eventually(() => page.locator("#who").textContent()).toContain("project demo");
    expect(page.url()).toBe(`${server.url}/`);
    expect(await page.evaluate(() => sessionStorage.getItem("ifc-console.token"))).toMatch(/^eyJ/);
    expect(await page.getByRole("button", { name: "Sign out" }).isVisible()).toBe(true);
    expect(await page.getByText("Choose .ifc files").isVisible()).toBe(true);
    await screenshot("01-signed-in");
    // The signed-in state lives in sessionStorage: a reload keeps it.
    await page.reload();
    await eventually(() => page.locator("#who").textContent()).toContain("project demo");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("signs in with a token pasted into the field labelled Token, and out again", async () => {
    const { page, errors, screenshot } = await browser.open();
    await page.goto(server.url);
    await screenshot("00-sign-in");
    await page.getByLabel("Token").fill(await devToken(["demo"]));
    // A token for one project fills the project in.
    await page.getByLabel("Token").dispatchEvent("change");
    expect(await page.getByLabel("Project").inputValue()).toBe("demo");
    await page.getByLabel("Token").press("Enter");
    await eventually(() => page.locator("#who").textContent()).toContain("project demo");
    await page.getByRole("button", { name: "Sign out" }).click();
    await eventually(() => page.getByLabel("Token").isVisible()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem("ifc-console.token"))).toBeNull();
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows the service's problem when the token is refused", async () => {
    const { page, errors, screenshot } = await browser.open();
    await page.goto(server.url);
    await page.getByLabel("Token").fill("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad-signature");
    await page.getByLabel("Project").fill("demo");
    await page.getByRole("button", { name: "Sign in" }).click();
    await eventually(() => page.locator("#notice").textContent()).toMatch(/Unauthorized|refused/i);
    await screenshot("02-token-refused");
    // The browser reports the 401 itself; nothing else may go wrong.
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    await page.close();
  });

  it("shows a model's summary: materials with the reference numbers, storeys, the entity chart", async () => {
    const token = await devToken(["demo"]);
    const upload = await fetch(`${server.url}/v1/projects/demo/models?filename=duplex.ifc`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: readFileSync(fixturePath("duplex.ifc")),
    });
    expect(upload.status).toBe(202);
    const { jobId } = (await upload.json()) as { jobId: string };

    const { page, errors, screenshot } = await browser.open();
    await page.goto(`${link}&job=${jobId}`);
    await page.locator("#materials-table").waitFor({ timeout: 60_000 });
    const reference = referenceFor("duplex.ifc");
    const rows = await page.locator("#materials-table tbody tr").evaluateAll((trs) =>
      trs.map((tr) => [tr.children[0]?.textContent ?? "", Number((tr.children[1]?.textContent ?? "").replace(/,/g, ""))]),
    );
    expect(rows.sort()).toEqual([...reference.materials].sort());
    expect(await page.locator("#job-body").textContent()).toContain(reference.entities.toLocaleString("en-US"));
    const bars = page.locator("svg.chart g.bar");
    expect(await bars.count()).toBe(12);
    expect(await bars.first().locator("title").textContent()).toMatch(/^IFC[A-Z0-9]+: [\d,]+$/);
    expect(await page.locator("#job-body").getByText(reference.storeys[0] ?? "none", { exact: true }).count()).toBeGreaterThan(0);
    // The validation report as the service made it (the streaming engine makes one; web-ifc none).
    const served = (await (await fetch(`${server.url}/v1/jobs/${jobId}/summary`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      validation?: { errorCount: number; warningCount: number };
    };
    expect(await page.locator("#job-body .validation").textContent()).toContain(
      served.validation ? `${served.validation.errorCount} errors${served.validation.warningCount} warnings` : "This engine made no validation report.",
    );
    await screenshot("03-summary-duplex");

    // Sorting by keyboard: the header buttons toggle aria-sort.
    const byName = page.getByRole("button", { name: "Material", exact: true });
    await byName.focus();
    await page.keyboard.press("Enter");
    expect(await page.locator("th[aria-sort]").getAttribute("aria-sort")).toBe("ascending");
    const names = await page.locator("#materials-table tbody td.name").allTextContents();
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    await page.keyboard.press("Enter");
    expect(await page.locator("th[aria-sort]").getAttribute("aria-sort")).toBe("descending");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows why a job failed: its code and message", async () => {
    const token = await devToken(["demo"]);
    const broken = [
      "ISO-10303-21;",
      "HEADER;",
      "FILE_DESCRIPTION(('ViewDefinition [CoordinationView]'),'2;1');",
      "FILE_NAME('broken.ifc','2026-11-30T00:00:00',(''),(''),'','','');",
      "FILE_SCHEMA(('IFC4'));",
      "ENDSEC;",
      "DATA;",
      "#1=IFCPROJECT('2Iicv0RnfAVPda6Sg4SE78',$,'Broken',$,$,$,$,$,$);",
      "#2=IFCWALL('1xS3BCk291UvhgP2dvNsgp',$,'never closed,$,$,$,$,$);",
      "",
    ].join("\n");
    const upload = await fetch(`${server.url}/v1/projects/demo/models?filename=broken.ifc`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: broken });
    expect(upload.status).toBe(202);
    const { jobId } = (await upload.json()) as { jobId: string };
    const { page, errors, screenshot } = await browser.open();
    await page.goto(`${link}&job=${jobId}`);
    const problem = page.locator("#job-body .problem");
    await problem.waitFor({ timeout: 60_000 });
    const job = (await (await fetch(`${server.url}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { error: { code: string; message: string } };
    expect(job.error.code).toBe("invalid_step");
    expect(await problem.locator("strong").textContent()).toBe("Processing failed: invalid_step");
    expect(await problem.locator("p").textContent()).toBe(job.error.message);
    expect(await page.locator("#job-body .badge.failed").count()).toBe(1);
    await screenshot("07-job-failed");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("lists the project's jobs newest first, a page at a time, each opening its summary", async () => {
    const token = await devToken(["demo"]);
    const body = readFileSync(fixturePath("test.ifc"));
    const names = Array.from({ length: 12 }, (_, i) => `listed-${String(i).padStart(2, "0")}.ifc`);
    for (const name of names) {
      const upload = await fetch(`${server.url}/v1/projects/demo/models?filename=${name}`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body });
      expect(upload.status).toBe(202);
    }
    const { page, errors, screenshot } = await browser.open();
    await page.goto(link);
    const listed = () => page.locator("#jobs-table tbody td.name").allTextContents();
    await eventually(listed).toEqual(expect.arrayContaining([names[11]]));
    const first = await listed();
    expect(first).toHaveLength(10);
    expect(first.slice(0, 10)).toEqual([...names].reverse().slice(0, 10));
    await screenshot("05-job-list");
    await page.getByRole("button", { name: "Older" }).click();
    await eventually(listed).not.toEqual(first);
    const second = await listed();
    expect(second.slice(0, 2)).toEqual([names[1], names[0]]);
    await page.getByRole("button", { name: "Newest" }).click();
    await eventually(listed).toEqual(first);
    await page.getByRole("button", { name: `Open ${names[11]}` }).click();
    await eventually(() => page.locator("#job-title").textContent()).toBe(`Job: ${names[11]}`);
    await page.locator("#job-body").getByText("No materials.").waitFor({ timeout: 60_000 });
    expect(await page.locator("#job-body .badge.succeeded").count()).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("stays readable in a narrow window: nothing wider than the screen, the summary included", async () => {
    const token = await devToken(["demo"]);
    const upload = await fetch(`${server.url}/v1/projects/demo/models?filename=duplex.ifc`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: readFileSync(fixturePath("duplex.ifc")),
    });
    const { jobId } = (await upload.json()) as { jobId: string };
    const { page, errors, screenshot } = await browser.open({ width: 375, height: 740 });
    await page.goto(link);
    await eventually(() => page.locator("#who").textContent()).toContain("project demo");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot("04-narrow");
    await page.goto(`${link}&job=${jobId}`);
    await page.locator("#materials-table").waitFor({ timeout: 60_000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot("06-narrow-summary");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("serves the favicon and a content security policy with the page", async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const icon = await fetch(`${server.url}/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toContain("image/svg+xml");
  });
});
