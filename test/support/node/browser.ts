import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { expect } from "vitest";
import { projectRoot } from "./dev-server.ts";

/** Debian's chromium package; `.ci/run` installs it when missing. */
export const CHROMIUM = "/usr/bin/chromium";
export const screenshotDir = join(projectRoot, "test-output", "screenshots");

/** Flags that let Chromium run headless as root in a container, with no calls home. */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface ConsolePage {
  page: Page;
  /** Console errors, uncaught exceptions and failed requests, as the page saw them. */
  errors: string[];
  /** Writes test-output/screenshots/NAME.png (the whole page) and returns its path. */
  screenshot(name: string): Promise<string>;
}

export interface ConsoleBrowser {
  context: BrowserContext;
  open(options?: { width?: number; height?: number }): Promise<ConsolePage>;
  close(): Promise<void>;
}

/** A fresh Chromium with its own profile folder, removed on close. */
export async function launchBrowser(): Promise<ConsoleBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "ifc-console-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1200, height: 900 },
  });
  mkdirSync(screenshotDir, { recursive: true });
  return {
    context,
    open: async (options = {}) => {
      const page = await context.newPage();
      if (options.width) await page.setViewportSize({ width: options.width, height: options.height ?? 800 });
      const errors: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(`console: ${message.text()}`);
      });
      page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
      return {
        page,
        errors,
        screenshot: async (name) => {
          const path = join(screenshotDir, `${name}.png`);
          await page.screenshot({ path, fullPage: true });
          return path;
        },
      };
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The link `npm run dev` prints once the Worker answers: the console, signed in to the dev project. */
export async function consoleLink(output: () => string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const link = /Console \([^)]*\): (\S+)/.exec(output())?.[1];
    if (link) return link;
    if (Date.now() > deadline) throw new Error(`npm run dev printed no console link:\n${output()}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/**
 * expect.poll with room for a loaded machine: the page, wrangler dev and the other suites share
 * two cores, and vitest's default (1 s) fails a correct page that is merely slow to update.
 */
export function eventually<T>(read: () => T | Promise<T>) {
  return expect.poll(read, { timeout: 30_000, interval: 100 });
}
