// The memory floor for upload benchmarks: a Worker that only reads the request body to the end.
export default {
  async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname === "/healthz") return Response.json({ status: "ok" });
    let bytes = 0;
    if (request.body) for await (const chunk of request.body) bytes += chunk.byteLength;
    return Response.json({ bytes }, { status: 202 });
  },
};
