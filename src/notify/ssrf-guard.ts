import ipaddr from "ipaddr.js";

/** Answers the IPv4 and IPv6 addresses a name resolves to; throws when it cannot tell. */
export type Resolver = (hostname: string) => Promise<string[]>;

export interface UrlGuardOptions {
  /** Development and tests: http, any port, loopback and private addresses are let through. */
  allowPrivate: boolean;
  /** Resolves host names so a public-looking name cannot point inward; null skips resolution. */
  resolver: Resolver | null;
  /** Ports a public receiver may listen on. */
  allowedPorts?: readonly number[];
}

export type UrlVerdict =
  | { ok: true; url: URL }
  /** `transient` marks a failure to resolve, which may pass later; anything else will not. */
  | { ok: false; reason: string; transient: boolean };

export const DEFAULT_ALLOWED_PORTS: readonly number[] = [443, 8443];

/**
 * Special-use names that never reach a public receiver (RFC 6761, 6762, 8375 under .arpa, the
 * cloud metadata names under .internal). Resolution could not be trusted for them.
 */
const INTERNAL_SUFFIXES = ["localhost", "local", "internal", "localdomain", "invalid", "arpa"];
const GLOBAL_UNICAST = ipaddr.parseCIDR("2000::/3");
const IPV4_COMPATIBLE = ipaddr.parseCIDR("::/96");
/** IPv6 forms that carry an IPv4 address a translator or tunnel would reach. */
const EMBEDDED_IPV4: Readonly<Record<string, string>> = {
  ipv4Mapped: "IPv4-mapped",
  rfc6145: "IPv4-translated",
  rfc6052: "NAT64",
  "6to4": "6to4",
  teredo: "Teredo",
};

/**
 * Decides whether the service may send to `raw`. Runs at registration and again before each
 * delivery, because what a name resolves to can change in between.
 */
export async function checkWebhookUrl(raw: string, options: UrlGuardOptions): Promise<UrlVerdict> {
  const reject = (reason: string, transient = false): UrlVerdict => ({ ok: false, reason, transient });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return reject("is not a valid absolute URL");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && options.allowPrivate)) {
    return reject(`scheme ${url.protocol.replace(/:$/, "")} is not allowed; use https`);
  }
  if (url.username !== "" || url.password !== "") return reject("credentials in the URL are not allowed");
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  const allowedPorts = options.allowedPorts ?? DEFAULT_ALLOWED_PORTS;
  if (!options.allowPrivate && !allowedPorts.includes(port)) {
    return reject(`port ${port} is not allowed; use ${allowedPorts.join(" or ")}`);
  }

  // WHATWG parsing has already turned decimal, octal and hex IPv4 forms into dotted quads
  // and put IPv6 literals in brackets, so a literal is recognisable here. Every trailing dot
  // goes: the parser leaves `127.0.0.1..` a name, which resolvers still send to 127.0.0.1.
  const host = url.hostname.replace(/\.+$/, "").toLowerCase();
  if (host === "") return reject("has no host");
  const literal = host.startsWith("[") ? host.slice(1, -1) : ipaddr.IPv4.isValidFourPartDecimal(host) ? host : null;
  if (literal !== null) {
    const problem = addressProblem(literal, options.allowPrivate);
    return problem === null ? { ok: true, url } : reject(`address ${literal} is ${problem}`);
  }

  if (!options.allowPrivate) {
    const suffix = INTERNAL_SUFFIXES.find((s) => host === s || host.endsWith(`.${s}`));
    if (suffix !== undefined) return reject(`host ${host} is a special-use name (.${suffix})`);
    if (!host.includes(".")) return reject(`host ${host} is not a public DNS name`);
  }
  if (options.resolver === null) return { ok: true, url };

  let addresses: string[];
  try {
    addresses = await options.resolver(host);
  } catch (error) {
    return reject(`host ${host} could not be resolved: ${error instanceof Error ? error.message : String(error)}`, true);
  }
  if (addresses.length === 0) return reject(`host ${host} does not resolve to any address`);
  for (const address of addresses) {
    const problem = addressProblem(address, options.allowPrivate);
    if (problem !== null) return reject(`host ${host} resolves to ${address}, which is ${problem}`);
  }
  return { ok: true, url };
}

/** Why an address may not be a webhook target, or null when it may. */
export function addressProblem(text: string, allowPrivate: boolean): string | null {
  if (!ipaddr.isValid(text)) return "not a valid IP address";
  const address = ipaddr.parse(text);
  if (address.kind() === "ipv4") {
    const range = address.range();
    if (range === "unicast") return null;
    if (allowPrivate && (range === "loopback" || range === "private")) return null;
    return describeRange(range);
  }
  const v6 = ipaddr.IPv6.parse(text);
  const range = v6.range();
  const embeddedForm = EMBEDDED_IPV4[range];
  if (embeddedForm !== undefined) {
    // Whatever IPv4 address is inside, a translator would deliver there: never allowed.
    return `an ${embeddedForm} IPv6 address`;
  }
  if (range === "unicast") {
    if (v6.match(IPV4_COMPATIBLE)) return "an IPv4-compatible IPv6 address";
    if (!v6.match(GLOBAL_UNICAST)) return describeRange("reserved");
    return null;
  }
  if (allowPrivate && (range === "loopback" || range === "uniqueLocal")) return null;
  return describeRange(range);
}

function describeRange(range: string): string {
  switch (range) {
    case "loopback":
      return "a loopback address";
    case "private":
      return "a private (RFC 1918) address";
    case "linkLocal":
      return "a link-local address (including cloud metadata)";
    case "carrierGradeNat":
      return "a carrier-grade NAT (100.64.0.0/10) address";
    case "uniqueLocal":
      return "a unique local (private) IPv6 address";
    case "unspecified":
      return "the unspecified address";
    default:
      return `a ${range} address`;
  }
}

interface DohAnswer {
  Status: number;
  Answer?: { type: number; data: string }[];
}

export const DOH_ENDPOINT = "https://cloudflare-dns.com/dns-query";
const DNS_TYPES = { A: 1, AAAA: 28 } as const;

/** Resolves A and AAAA records over DNS-over-HTTPS (JSON API); NXDOMAIN gives no addresses. */
export function dohResolver(fetcher: typeof fetch = fetch, endpoint = DOH_ENDPOINT, timeoutMs = 5_000): Resolver {
  const query = async (name: string, type: keyof typeof DNS_TYPES): Promise<string[]> => {
    const url = `${endpoint}?name=${encodeURIComponent(name)}&type=${type}`;
    const response = await fetcher(url, { headers: { accept: "application/dns-json" }, signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`DNS-over-HTTPS answered ${response.status}`);
    const body = (await response.json()) as DohAnswer;
    // 3 is NXDOMAIN: the name does not exist, which is an answer, not a failure.
    if (body.Status === 3) return [];
    if (body.Status !== 0) throw new Error(`DNS-over-HTTPS status ${body.Status}`);
    return (body.Answer ?? []).filter((answer) => answer.type === DNS_TYPES[type]).map((answer) => answer.data);
  };
  return async (name) => {
    const [v4, v6] = await Promise.all([query(name, "A"), query(name, "AAAA")]);
    return [...v4, ...v6];
  };
}
