// The memory floor for upload benchmarks: a Worker that only reads the request body to the end.
export default {
  async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname === "/healthz") return Response.json({ status: "ok" });
    let bytes = 0;
    const reader = request.body?.getReader();
    for (let next = await reader?.read(); next && !next.done; next = await reader?.read()) bytes += next.value.byteLength;
    return Response.json({ bytes }, { status: 202 });
  },
};
