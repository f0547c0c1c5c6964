import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatedModel } from "../setup/generated-model.ts";
import { type ConsoleBrowser, consoleLink, eventually, launchBrowser } from "../support/node/browser.ts";
import { type DevServer, devToken, startDevServer } from "../support/node/dev-server.ts";
import { fixturePath, referenceFor } from "../support/node/reference.ts";

/** A model bigger than one part (parts are at least 8 MiB), so a reload can land between parts. */
const LARGE_MB = 30;

/** The upload card of a file. */
const card = (page: Page, name: string) => page.locator("li.upload", { has: page.locator(".file-name strong", { hasText: name }) });

/** Materials as the table shows them: [name, associatedObjects]. */
async function materialRows(page: Page): Promise<[string, number][]> {
  return page
    .locator("#materials-table tbody tr")
    .evaluateAll((trs) => trs.map((tr) => [tr.children[0]?.textContent ?? "", Number((tr.children[1]?.textContent ?? "").replace(/,/g, ""))] as [string, number]));
}

/** Part number of a part request (`.../uploads/{id}/parts/{n}`), or undefined. */
const partOf = (url: string): number | undefined => {
  const match = /\/uploads\/[^/]+\/parts\/(\d+)/.exec(url);
  return match ? Number(match[1]) : undefined;
};

/**
 * Holds every part PUT but part 1 until released: the upload is caught mid-way, with part 1
 * stored and others in flight, however fast the loopback is. Requests held when the page
 * reloads are never answered; release() lets later ones through.
 */
async function holdPartsAfterFirst(page: Page): Promise<{ release(): void }> {
  let holding = true;
  await page.route("**/uploads/*/parts/*", async (route: Route) => {
    const request = route.request();
    if (holding && request.method() === "PUT" && (partOf(request.url()) ?? 1) > 1) return;
    await route.continue();
  });
  return { release: () => (holding = false) };
}

describe("web console: uploads through upload sessions", () => {
  let server: DevServer;
  let browser: ConsoleBrowser;
  let link: string;
  let token: string;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDevServer(), launchBrowser()]);
    [link, token] = await Promise.all([consoleLink(server.output), devToken(["demo"])]);
  });

  afterAll(async () => {
    await Promise.all([browser?.close(), server?.stop()]);
  });

  async function session(uploadId: string): Promise<{ status: string; parts: { partNumber: number }[]; partCount: number }> {
    const response = await fetch(`${server.url}/v1/projects/demo/uploads/${uploadId}`, { headers: { authorization: `Bearer ${token}` } });
    return (await response.json()) as { status: string; parts: { partNumber: number }[]; partCount: number };
  }

  async function savedUploadId(page: Page): Promise<string> {
    await eventually(() => page.evaluate(() => Object.keys(JSON.parse(localStorage.getItem("ifc-console.uploads") ?? "{}")).length)).toBe(1);
    return page.evaluate(() => Object.values(JSON.parse(localStorage.getItem("ifc-console.uploads") ?? "{}") as Record<string, { uploadId: string }>)[0]?.uploadId ?? "");
  }

  it("uploads duplex.ifc and AC20-FZK-Haus.ifc, follows both jobs to success and shows their summaries", async () => {
    const { page, errors, screenshot } = await browser.open();
    const created: string[] = [];
    page.on("request", (request) => {
      if (request.method() === "POST" && /\/v1\/projects\/demo\/uploads$/.test(request.url())) created.push(request.postData() ?? "");
    });
    await page.goto(link);
    await page.locator("#files").setInputFiles([fixturePath("duplex.ifc"), fixturePath("AC20-FZK-Haus.ifc")]);
    await eventually(() => page.locator("li.upload").count()).toBe(2);
    await screenshot("10-uploads-started");
    for (const name of ["duplex.ifc", "AC20-FZK-Haus.ifc"]) {
      await card(page, name).locator(".badge.succeeded").waitFor({ timeout: 90_000 });
    }
    // Both went through upload sessions, not the direct upload route.
    expect(created.map((body) => (JSON.parse(body) as { filename: string }).filename).sort()).toEqual(["AC20-FZK-Haus.ifc", "duplex.ifc"]);
    await screenshot("11-uploads-succeeded");

    for (const name of ["duplex.ifc", "AC20-FZK-Haus.ifc"]) {
      await page.getByRole("button", { name: `Open the summary of ${name}` }).click();
      await eventually(() => page.locator("#job-title").textContent()).toBe(`Job: ${name}`);
      await page.locator("#materials-table").waitFor();
      const reference = referenceFor(name);
      expect((await materialRows(page)).sort()).toEqual([...reference.materials].sort());
      expect(await page.locator("svg.chart g.bar").count()).toBeGreaterThan(0);
      expect(await page.locator("#job-body").textContent()).toContain(reference.entities.toLocaleString("en-US"));
      await screenshot(`12-summary-${name.replace(/\.ifc$/, "")}`);
    }

    // The job list: newest first, each opening its summary.
    await page.getByRole("button", { name: "Refresh" }).click();
    await eventually(() => page.locator("#jobs-table tbody tr").count()).toBeGreaterThanOrEqual(2);
    const listed = await page.locator("#jobs-table tbody tr td.name").allTextContents();
    expect(listed.slice(0, 2).sort()).toEqual(["AC20-FZK-Haus.ifc", "duplex.ifc"]);
    await page.getByRole("button", { name: `Open ${listed[1]}` }).click();
    await eventually(() => page.locator("#job-title").textContent()).toBe(`Job: ${listed[1]}`);
    await page.locator("#materials-table").waitFor();
    await screenshot("13-job-list");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("resumes a large upload after a reload from the parts the session lists, sending none twice", async () => {
    const model = generatedModel(LARGE_MB);
    const { page, errors, screenshot } = await browser.open();
    await page.goto(link);
    const hold = await holdPartsAfterFirst(page);
    await page.locator("#files").setInputFiles(model);
    const uploadId = await savedUploadId(page);
    await eventually(async () => (await session(uploadId)).parts.map((p) => p.partNumber)).toEqual([1]);
    const { partCount } = await session(uploadId);
    expect(partCount).toBeGreaterThan(2);
    await eventually(() => card(page, "duplex-").locator(".upload-text").textContent()).toMatch(/Uploading .* MB\/s/);
    await screenshot("20-large-upload-mid-way");

    hold.release();
    await page.reload();
    await page.locator("#pending-list li").first().waitFor();
    expect(await page.locator("#pending-list").textContent()).toContain(`duplex-${LARGE_MB}mb.ifc`);
    await screenshot("21-after-reload-unfinished");

    const listed = (await session(uploadId)).parts.map((p) => p.partNumber);
    expect(listed).toContain(1);
    expect(listed.length).toBeLessThan(partCount);
    const sent: number[] = [];
    page.on("request", (request) => {
      const part = partOf(request.url());
      if (request.method() === "PUT" && part !== undefined) sent.push(part);
    });
    await page.locator("#files").setInputFiles(model);
    await eventually(() => card(page, "duplex-").locator(".upload-text").textContent()).toContain("resumed at");
    await card(page, "duplex-").locator(".badge.processing, .badge.succeeded").first().waitFor({ timeout: 120_000 });
    await screenshot("22-large-upload-job");
    await card(page, "duplex-").locator(".badge.succeeded").waitFor({ timeout: 120_000 });
    const unlisted = Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !listed.includes(n));
    expect([...new Set(sent)].sort((a, b) => a - b)).toEqual(unlisted);
    expect(await page.locator("#pending").isHidden()).toBe(true);
    await screenshot("23-large-upload-resumed-succeeded");

    // The model is duplex.ifc's DATA repeated: each copy brings its own materials, used as in duplex.ifc.
    await page.getByRole("button", { name: `Open the summary of duplex-${LARGE_MB}mb.ifc` }).click();
    await page.locator("#materials-table").waitFor();
    const duplex = referenceFor("duplex.ifc");
    const reference = new Map(duplex.materials);
    const text = (await page.locator("#job-body").textContent()) ?? "";
    const materials = Number(/Materials \(([\d,]+)\)/.exec(text)?.[1]?.replace(/,/g, ""));
    const copies = materials / reference.size;
    expect(Number.isInteger(copies) && copies > 1).toBe(true);
    expect(text).toContain((duplex.entities * copies).toLocaleString("en-US"));
    for (const [name, count] of await materialRows(page)) expect([name, count]).toEqual([name, reference.get(name)]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("discards an unfinished upload after a reload: the session is aborted and forgotten", async () => {
    const model = generatedModel(LARGE_MB);
    const { page, errors } = await browser.open();
    await page.goto(link);
    const hold = await holdPartsAfterFirst(page);
    await page.locator("#files").setInputFiles(model);
    const uploadId = await savedUploadId(page);
    hold.release();
    await page.reload();
    await page.getByRole("button", { name: `Discard the unfinished upload of duplex-${LARGE_MB}mb.ifc` }).click();
    expect(await page.locator("#pending").isHidden()).toBe(true);
    await eventually(async () => (await session(uploadId)).status).toBe("aborted");
    expect(await page.evaluate(() => localStorage.getItem("ifc-console.uploads"))).toBe("{}");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("stops at a refused part with the problem, and Resume continues from the session's listing", async () => {
    const model = generatedModel(LARGE_MB);
    const { page, errors, screenshot } = await browser.open();
    await page.goto(link);
    // Injected fault (the real service refuses only malformed parts): part 2's PUT answered 400 once.
    let refused = false;
    await page.route("**/uploads/*/parts/2", async (route: Route) => {
      if (route.request().method() !== "PUT" || refused) return route.continue();
      refused = true;
      return route.fulfill({
        status: 400,
        contentType: "application/problem+json",
        body: JSON.stringify({ type: "about:blank", title: "Bad Part", detail: "injected by the test", status: 400 }),
      });
    });
    await page.locator("#files").setInputFiles(model);
    const problem = card(page, "duplex-").locator(".problem");
    await problem.waitFor();
    expect(await problem.textContent()).toBe("Bad Partinjected by the test");
    expect(await card(page, "duplex-").locator(".upload-text").textContent()).toMatch(/^Stopped at/);
    // Its card offers Resume; it is not listed again among the unfinished uploads.
    expect(await page.locator("#pending").isHidden()).toBe(true);
    await screenshot("32-part-refused");
    await page.getByRole("button", { name: `Resume duplex-${LARGE_MB}mb.ifc` }).click();
    await card(page, "duplex-").locator(".badge.succeeded").waitFor({ timeout: 120_000 });
    expect(await problem.isHidden()).toBe(true);
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
    await page.close();
  });

  it("pauses, resumes and cancels an upload", async () => {
    const model = generatedModel(LARGE_MB);
    const { page, errors, screenshot } = await browser.open();
    await page.goto(link);
    const hold = await holdPartsAfterFirst(page);
    await page.locator("#files").setInputFiles(model);
    const uploadId = await savedUploadId(page);
    await eventually(async () => (await session(uploadId)).parts.length).toBe(1);

    await page.getByRole("button", { name: `Pause duplex-${LARGE_MB}mb.ifc` }).click();
    await eventually(() => card(page, "duplex-").locator(".upload-text").textContent()).toMatch(/^Paused at/);
    // Keyboard focus stays on the control that replaced the one pressed.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Resume");
    await screenshot("30-paused");
    hold.release();
    await page.keyboard.press("Enter");
    await card(page, "duplex-").locator(".badge.succeeded").waitFor({ timeout: 120_000 });
    expect((await session(uploadId)).status).toBe("completed");

    // A second copy under another name, cancelled mid-way: the session is aborted and forgotten.
    const copy = join(mkdtempSync(join(tmpdir(), "console-")), "cancel-me.ifc");
    writeFileSync(copy, Buffer.concat([Buffer.from("ISO-10303-21;\n"), Buffer.alloc(20 * 1024 * 1024, 0x20), Buffer.from("\n")]));
    const holdCopy = await holdPartsAfterFirst(page);
    await page.locator("#files").setInputFiles(copy);
    await eventually(() => page.evaluate(() => localStorage.getItem("ifc-console.uploads") ?? "")).toContain("cancel-me.ifc");
    const cancelId = await page.evaluate(
      () => Object.values(JSON.parse(localStorage.getItem("ifc-console.uploads") ?? "{}") as Record<string, { uploadId: string; name: string }>).find((u) => u.name === "cancel-me.ifc")?.uploadId ?? "",
    );
    await page.getByRole("button", { name: "Cancel cancel-me.ifc" }).click();
    await eventually(() => card(page, "cancel-me.ifc").locator(".upload-text").textContent()).toBe("Cancelled");
    await eventually(async () => (await session(cancelId)).status).toBe("aborted");
    expect(await page.evaluate(() => localStorage.getItem("ifc-console.uploads"))).not.toContain("cancel-me.ifc");
    await screenshot("31-cancelled");
    holdCopy.release();
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows the 415 problem's title and detail for a file that is not IFC", async () => {
    const notIfc = join(mkdtempSync(join(tmpdir(), "console-")), "floor-plan.png");
    writeFileSync(notIfc, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(4096, 7)]));
    const { page, errors, screenshot } = await browser.open();
    const statuses: number[] = [];
    page.on("response", (response) => {
      if (response.url().endsWith("/complete")) statuses.push(response.status());
    });
    await page.goto(link);
    // Chosen by keyboard: Tab from the header reaches the file input, Space opens the chooser.
    await page.getByRole("button", { name: "Sign out" }).focus();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("files");
    const chooser = page.waitForEvent("filechooser");
    await page.keyboard.press("Space");
    await (await chooser).setFiles(notIfc);
    const problem = card(page, "floor-plan.png").locator(".problem");
    await problem.waitFor();
    expect(statuses).toEqual([415]);
    expect(await problem.locator(".problem-title").textContent()).toMatch(/\S/);
    expect(await problem.locator(".problem-detail").textContent()).toMatch(/STEP|IFC/);
    expect(await card(page, "floor-plan.png").locator(".upload-text").textContent()).toBe("Not accepted");
    await screenshot("40-not-ifc-415");

    // Dropped rather than chosen: the same path.
    await page.locator("#drop").evaluate((zone) => {
      const data = new DataTransfer();
      data.items.add(new File(["just some notes\n"], "notes.txt", { type: "text/plain" }));
      zone.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await card(page, "notes.txt").locator(".problem .problem-title").waitFor();
    expect(statuses).toEqual([415, 415]);
    // The browser reports the refused requests itself; nothing else may go wrong.
    expect(errors.filter((e) => !/status of 415/.test(e))).toEqual([]);
    await page.close();
  });
});
