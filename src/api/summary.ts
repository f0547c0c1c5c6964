import { z } from "@hono/zod-openapi";

const ValidationIssue = z.object({ line: z.int().nullable(), code: z.string(), message: z.string() });

export const ModelSummarySchema = z
  .object({
    schema: z.string().openapi({ example: "IFC4" }),
    entityCount: z.int().nonnegative().openapi({ description: "Entity instances in the DATA section (an id defined twice counts once).", example: 44249 }),
    header: z.object({
      fileName: z.string().nullable(),
      timeStamp: z.string().nullable(),
      originatingSystem: z.string().nullable(),
      preprocessorVersion: z.string().nullable(),
      description: z.array(z.string()),
    }),
    project: z.object({ globalId: z.string(), name: z.string().nullable() }).nullable(),
    storeys: z
      .array(z.object({ globalId: z.string(), name: z.string(), elevation: z.number().nullable() }))
      .openapi({ description: "Ordered by elevation (unknown last), then name." }),
    counts: z.record(z.string(), z.int().positive()).openapi({ description: "Instances per entity type present, upper-case, sorted by name.", example: { IFCWALLSTANDARDCASE: 13 } }),
    materials: z
      .array(z.object({ expressId: z.int(), name: z.string(), associatedObjects: z.int().nonnegative() }))
      .openapi({ description: "One entry per IFCMATERIAL instance, ordered by expressId." }),
    validation: z
      .object({
        errors: z.array(ValidationIssue),
        warnings: z.array(ValidationIssue),
        unknownTypes: z.record(z.string(), z.int()),
        duplicateIds: z.int(),
        danglingReferences: z.int(),
        truncated: z.boolean(),
      })
      .optional()
      .openapi({ description: "Validation report (streaming engine)." }),
    processor: z.object({
      engine: z.enum(["web-ifc", "streaming", "mock"]),
      version: z.string(),
      durationMs: z.number().nonnegative(),
      heapBytes: z.int().optional(),
      phasesMs: z.record(z.string(), z.number()).optional(),
    }),
  })
  .openapi("ModelSummary");
