import { describe, expect, it } from "vitest";
import { addressProblem, checkWebhookUrl, dohResolver, type Resolver } from "../../src/notify/ssrf-guard";

/** A resolver that knows a few names and fails on the rest, like DNS would. */
const resolver: Resolver = async (name) => {
  const table: Record<string, string[]> = {
    "hooks.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "internal-alias.example.com": ["10.0.0.1"],
    "mixed.example.com": ["93.184.216.34", "127.0.0.1"],
    "metadata-alias.example.com": ["169.254.169.254"],
    "v6-private.example.com": ["fd12:3456::1"],
    "mapped.example.com": ["::ffff:10.0.0.1"],
    "nowhere.example.com": [],
  };
  const found = table[name];
  if (found === undefined) throw new Error("SERVFAIL");
  return found;
};

const strict = { allowPrivate: false, resolver };
const lenient = { allowPrivate: true, resolver: null };

const hostile: [string, RegExp][] = [
  ["http://2130706433/", /scheme http/],
  ["https://2130706433/", /loopback/],
  ["https://0x7f.1/", /loopback/],
  ["https://0177.0.0.1/", /loopback/],
  ["https://0x7f000001/", /loopback/],
  ["https://127.1/", /loopback/],
  ["https://127.0.0.1/", /loopback/],
  ["https://[::1]/", /loopback/],
  ["https://[::ffff:127.0.0.1]/", /IPv4-mapped/],
  ["https://[::ffff:7f00:1]/", /IPv4-mapped/],
  ["https://[::ffff:a9fe:a9fe]/", /IPv4-mapped/],
  ["https://[64:ff9b::a9fe:a9fe]/", /NAT64/],
  ["https://[64:ff9b::7f00:1]/", /NAT64/],
  ["https://[2002:7f00:1::1]/", /6to4/],
  ["https://[::127.0.0.1]/", /IPv4-compatible/],
  ["https://[fe80::1]/", /link-local/],
  ["https://[fc00::1]/", /unique local/],
  ["https://[fd00:ec2::254]/", /unique local/],
  ["https://[ff02::1]/", /multicast/],
  ["https://[::]/", /unspecified/],
  ["https://[2001:db8::1]/", /reserved/],
  ["https://169.254.169.254/latest/meta-data/", /link-local/],
  ["https://10.0.0.1/", /private/],
  ["https://172.16.5.4/", /private/],
  ["https://192.168.1.1/", /private/],
  ["https://100.64.0.1/", /carrier-grade NAT/],
  ["https://0.0.0.0/", /unspecified/],
  ["https://0/", /unspecified/],
  ["https://224.0.0.1/", /multicast/],
  ["https://255.255.255.255/", /broadcast/],
  ["https://240.0.0.1/", /reserved/],
  ["https://192.0.2.10/", /reserved/],
  ["https://user:pass@hooks.example.com/", /credentials/],
  ["https://user@hooks.example.com/", /credentials/],
  ["https://hooks.example.com:22/", /port 22/],
  ["https://hooks.example.com:8080/", /port 8080/],
  ["https://hooks.example.com:80/", /port 80/],
  ["file:///etc/passwd", /scheme file/],
  ["gopher://hooks.example.com/", /scheme gopher/],
  ["ftp://hooks.example.com/", /scheme ftp/],
  ["javascript:alert(1)", /scheme javascript/],
  ["https://localhost/", /special-use/],
  ["https://api.localhost/", /special-use/],
  ["https://localhost./", /special-use/],
  ["https://metadata.google.internal/", /special-use/],
  ["https://printer.local/", /special-use/],
  ["https://intranet/", /not a public DNS name/],
  ["https://internal-alias.example.com/", /resolves to 10\.0\.0\.1.*private/],
  ["https://mixed.example.com/", /resolves to 127\.0\.0\.1/],
  ["https://metadata-alias.example.com/", /169\.254\.169\.254/],
  ["https://v6-private.example.com/", /unique local/],
  ["https://mapped.example.com/", /IPv4-mapped/],
  ["https://nowhere.example.com/", /does not resolve/],
  ["not a url", /valid absolute URL/],
];

describe("webhook URL guard", () => {
  it.each(hostile)("rejects %s", async (url, reason) => {
    const verdict = await checkWebhookUrl(url, strict);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.reason).toMatch(reason);
      expect(verdict.transient).toBe(false);
    }
  });

  it("has at least 30 hostile cases", () => {
    expect(hostile.length).toBeGreaterThanOrEqual(30);
  });

  it.each([
    "https://hooks.example.com/ifc",
    "https://hooks.example.com:8443/ifc?token=abc",
    "https://HOOKS.example.com./ifc",
    "https://93.184.216.34/hook",
    "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
  ])("accepts the public URL %s", async (url) => {
    const verdict = await checkWebhookUrl(url, strict);
    expect(verdict).toMatchObject({ ok: true });
  });

  it("accepts a public name without resolving it when resolution is off", async () => {
    expect(await checkWebhookUrl("https://unknown.example.org/", { allowPrivate: false, resolver: null })).toMatchObject({ ok: true });
  });

  it("reports a failed lookup as transient, so a delivery retries instead of giving up", async () => {
    const verdict = await checkWebhookUrl("https://unknown.example.org/", strict);
    expect(verdict).toEqual({ ok: false, reason: expect.stringMatching(/could not be resolved: SERVFAIL/), transient: true });
  });

  it.each(["https://127.0.0.1../", "https://localhost../", "https://127.0.0.1.../x", "https://metadata.google.internal../"])(
    "refuses %s with resolution off: every trailing dot is stripped before the check",
    async (url) => {
      const verdict = await checkWebhookUrl(url, { allowPrivate: false, resolver: null });
      expect(verdict.ok).toBe(false);
      if (!verdict.ok) expect(verdict.reason).toMatch(/loopback|special-use/);
    },
  );

  it("lets other ports through when they are allowed", async () => {
    expect(await checkWebhookUrl("https://hooks.example.com:9443/", { ...strict, allowedPorts: [9443] })).toMatchObject({ ok: true });
  });

  describe("allow-private mode (development and tests)", () => {
    it("lets http://127.0.0.1 on any port through", async () => {
      expect(await checkWebhookUrl("http://127.0.0.1:8787/hooks/a", lenient)).toMatchObject({ ok: true });
      expect(await checkWebhookUrl("http://localhost:3000/", lenient)).toMatchObject({ ok: true });
      expect(await checkWebhookUrl("http://[::1]:3000/", lenient)).toMatchObject({ ok: true });
      expect(await checkWebhookUrl("http://192.168.1.20/", lenient)).toMatchObject({ ok: true });
    });

    it("still refuses cloud metadata, credentials and other schemes", async () => {
      expect(await checkWebhookUrl("http://169.254.169.254/", lenient)).toMatchObject({ ok: false });
      expect(await checkWebhookUrl("http://[::ffff:169.254.169.254]/", lenient)).toMatchObject({ ok: false });
      expect(await checkWebhookUrl("http://u:p@127.0.0.1/", lenient)).toMatchObject({ ok: false });
      expect(await checkWebhookUrl("file:///etc/passwd", lenient)).toMatchObject({ ok: false });
      expect(await checkWebhookUrl("http://100.64.0.1/", lenient)).toMatchObject({ ok: false });
    });

    it("checks resolved names against the same rules", async () => {
      expect(await checkWebhookUrl("http://internal-alias.example.com/", { allowPrivate: true, resolver })).toMatchObject({ ok: true });
      expect(await checkWebhookUrl("http://metadata-alias.example.com/", { allowPrivate: true, resolver })).toMatchObject({ ok: false });
    });
  });

  it("classifies bare addresses", () => {
    expect(addressProblem("8.8.8.8", false)).toBeNull();
    expect(addressProblem("not-an-ip", false)).toMatch(/not a valid IP/);
    expect(addressProblem("fd00::1", true)).toBeNull();
    expect(addressProblem("fe80::1", true)).toMatch(/link-local/);
  });
});

describe("DNS-over-HTTPS resolver", () => {
  const answers: Record<string, unknown> = {
    "A:hooks.example.com": { Status: 0, Answer: [{ type: 5, data: "edge.example.net." }, { type: 1, data: "93.184.216.34" }] },
    "AAAA:hooks.example.com": { Status: 0, Answer: [{ type: 28, data: "2606:2800:220:1::1" }] },
    "A:missing.example.com": { Status: 3 },
    "AAAA:missing.example.com": { Status: 3 },
    "A:broken.example.com": { Status: 2 },
    "AAAA:broken.example.com": { Status: 0 },
  };
  const requests: Request[] = [];
  const fakeDoh: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    requests.push(request);
    const url = new URL(request.url);
    const body = answers[`${url.searchParams.get("type")}:${url.searchParams.get("name")}`];
    return body === undefined ? new Response("no", { status: 500 }) : Response.json(body);
  };
  const resolve = dohResolver(fakeDoh, "https://doh.test/dns-query");

  it("asks for A and AAAA records as JSON and keeps only addresses", async () => {
    expect(await resolve("hooks.example.com")).toEqual(["93.184.216.34", "2606:2800:220:1::1"]);
    expect(requests[0]?.headers.get("accept")).toBe("application/dns-json");
    expect(requests.map((r) => new URL(r.url).searchParams.get("type")).sort()).toEqual(["A", "AAAA"]);
  });

  it("answers no addresses for a name that does not exist", async () => {
    expect(await resolve("missing.example.com")).toEqual([]);
  });

  it("throws when the resolver fails, which the guard reports as transient", async () => {
    await expect(resolve("broken.example.com")).rejects.toThrow(/status 2/);
    await expect(resolve("other.example.com")).rejects.toThrow(/answered 500/);
  });
});
