/**
 * Entity names per schema, from the tables web-ifc ships (generated into schema-entities.ts),
 * loaded on first use: unknown types are judged against the table web-ifc would read the
 * file's FILE_SCHEMA with (IFC2X_FINAL with IFC2X3's, IFC4X1..IFC4X3_ADD2 with IFC4X3's).
 */
export interface SchemaTable {
  /** The table's name, e.g. "IFC4X3". */
  readonly name: string;
  has(entity: string): boolean;
}

const tables = new Map<string, SchemaTable | null>();

export async function schemaTable(schema: string): Promise<SchemaTable | null> {
  const key = schema.toUpperCase();
  const known = tables.get(key);
  if (known !== undefined) return known;
  const { SCHEMA_TABLES } = await import("./schema-entities");
  const found = SCHEMA_TABLES.find((table) => table.aliases.includes(key));
  const table = found ? entityTable(found.aliases[0] ?? key, found.entities) : null;
  tables.set(key, table);
  return table;
}

function entityTable(name: string, entities: string): SchemaTable {
  const names = new Set(entities.split(" "));
  return { name, has: (entity) => names.has(entity) };
}
