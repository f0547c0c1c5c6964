import { z } from "zod";

/** What every settings group may look at besides its own settings. */
export interface SettingsContext {
  environment: "production" | "development" | "test";
  /** Which optional bindings the Worker has. */
  bindings: { models: boolean; queue: boolean };
}

/** A group's settings as given: strings, blank ones already turned into undefined. */
export type RawSettings<Shape extends z.ZodRawShape> = { [Name in keyof Shape]: string | undefined };

/**
 * The settings one adapter or area owns: their names and formats (the zod shape, the only place
 * each name is written), the combinations it requires, and the typed config it builds from them.
 */
export interface SettingsGroup<Shape extends z.ZodRawShape, Out> {
  readonly shape: Shape;
  /** Settings required only in some combinations; reported together with every format problem. */
  missing?(raw: RawSettings<Shape>, context: SettingsContext): string[];
  build(values: z.output<z.ZodObject<Shape>>, context: SettingsContext): Out;
}

export const defineSettings = <Shape extends z.ZodRawShape, Out>(group: SettingsGroup<Shape, Out>): SettingsGroup<Shape, Out> => group;

export const blankToUndefined = (value: unknown): string | undefined =>
  typeof value !== "string" || value.trim() === "" ? undefined : value;

export type GroupResult<Out> = { ok: true; value: Out } | { ok: false; problems: string[] };

/** Parses one group from the raw environment; every problem it finds is in the result. */
export function parseGroup<Shape extends z.ZodRawShape, Out>(
  group: SettingsGroup<Shape, Out>,
  source: object,
  context: SettingsContext,
): GroupResult<Out> {
  const raw = Object.fromEntries(
    Object.keys(group.shape).map((name) => [name, blankToUndefined(Reflect.get(source, name))]),
  ) as RawSettings<Shape>;
  const parsed = z.object(group.shape).safeParse(raw);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join(".") || "config"}: ${issue.message}`)),
    ...(group.missing?.(raw, context) ?? []),
  ];
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  return { ok: true, value: group.build(parsed.data, context) };
}

/** "true" / "false" settings. */
export const booleanSetting = z.enum(["true", "false"], { error: "must be true or false" });
export const httpUrlSetting = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
