// Memory floors for upload benchmarks: a Worker that only reads the request body to the end
// (/drain), and one that pipes it untouched into the local R2 simulator (/r2).
interface Env {
  BUCKET: R2Bucket;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return Response.json({ status: "ok" });
    if (url.pathname === "/r2" && request.body) {
      const object = await env.BUCKET.put(`floor/${crypto.randomUUID()}`, request.body);
      return Response.json({ bytes: object?.size ?? 0 }, { status: 202 });
    }
    let bytes = 0;
    const reader = request.body?.getReader();
    for (let next = await reader?.read(); next && !next.done; next = await reader?.read()) bytes += next.value.byteLength;
    return Response.json({ bytes }, { status: 202 });
  },
};
