import { describe, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type { CreateUploadRequest, PartTarget, UploadedPart, UploadSession, UploadSessionList, UploadSessionState } from "../../src/client";
import type { createSessionBody, createdSessionReply, listReply, partReply, partUrlReply, sessionReply } from "../../src/uploads/schemas";

describe("the client's upload-session types", () => {
  it("are the routes' schemas, both ways (checked by npm run typecheck)", () => {
    expectTypeOf<CreateUploadRequest>().toEqualTypeOf<z.input<typeof createSessionBody>>();
    expectTypeOf<UploadSession>().toEqualTypeOf<z.infer<typeof createdSessionReply>>();
    expectTypeOf<UploadSessionState>().toEqualTypeOf<z.infer<typeof sessionReply>>();
    expectTypeOf<UploadedPart>().toEqualTypeOf<z.infer<typeof partReply>>();
    expectTypeOf<PartTarget>().toEqualTypeOf<z.infer<typeof partUrlReply>>();
    expectTypeOf<UploadSessionList>().toEqualTypeOf<z.infer<typeof listReply>>();
  });
});
