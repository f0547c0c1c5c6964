import { z } from "@hono/zod-openapi";

const ValidationIssue = z.object({ line: z.int(), code: z.string(), message: z.string() });

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
    file: z
      .object({ size: z.int().nonnegative(), sha256: z.string() })
      .openapi({ description: "Size and SHA-256 of the stored bytes the summary was made from (hashed in the same pass)." }),
    validation: z
      .object({
        errors: z.array(ValidationIssue).openapi({ description: "The first 100 errors; a fatal one fails the job with invalid_step." }),
        warnings: z.array(ValidationIssue).openapi({ description: "The first 100 warnings (skipped statements, cut strings, ...)." }),
        unknownTypes: z.record(z.string(), z.int()).openapi({ description: "Instances per type the schema table lacks." }),
        duplicateIds: z.int().openapi({ description: "Instance ids defined more than once." }),
        danglingReferences: z.int().openapi({ description: "Distinct ids referenced but never defined." }),
        truncated: z.boolean().openapi({ description: "A list was cut to its first entries." }),
        schemaTable: z.string().nullable().openapi({ description: "The schema table types were judged against (e.g. IFC4X3 for IFC4X3_RC2); null if none." }),
        errorCount: z.int().nonnegative(),
        warningCount: z.int().nonnegative(),
      })
      .openapi({ description: "Validation report (docs/stream-engine.md)." }),
    truncated: z
      .object({ materials: z.int().nonnegative(), storeys: z.int().nonnegative() })
      .optional()
      .openapi({ description: "Only on a job record's copy of a summary too large for it: the full lengths of the lists it cut." }),
    processor: z.object({
      engine: z.enum(["stream", "web-ifc", "mock"]),
      version: z.string(),
      durationMs: z.number().nonnegative(),
      heapBytes: z.int().optional(),
      phasesMs: z.record(z.string(), z.number()).optional(),
    }),
  })
  .openapi("ModelSummary");
