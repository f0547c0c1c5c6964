/**
 * Counts, per IFCMATERIAL, the distinct objects associated with it, following the reference
 * definition in fixtures/ifc/README.md: an IFCRELASSOCIATESMATERIAL counts for every material
 * its RelatingMaterial reaches through layer set usages, layer sets, layers, lists,
 * constituent sets / constituents and profile set (usages) / profiles, or directly.
 * Pure: the processor supplies the graph, this walks it.
 */

/** Which attributes (0-based) of a material definition lead on towards materials. */
export const MATERIAL_EDGES: Readonly<Record<string, readonly number[]>> = {
  IFCMATERIALLAYERSETUSAGE: [0], // ForLayerSet
  IFCMATERIALLAYERSET: [0], // MaterialLayers
  IFCMATERIALLAYER: [0], // Material
  IFCMATERIALLAYERWITHOFFSETS: [0], // Material
  IFCMATERIALLIST: [0], // Materials
  IFCMATERIALCONSTITUENTSET: [2], // MaterialConstituents
  IFCMATERIALCONSTITUENT: [2], // Material
  IFCMATERIALPROFILESETUSAGE: [0], // ForProfileSet
  IFCMATERIALPROFILESETUSAGETAPERING: [0, 3], // ForProfileSet, ForProfileEndSet
  IFCMATERIALPROFILESET: [2], // MaterialProfiles
  IFCMATERIALPROFILE: [2], // Material
  IFCMATERIALPROFILEWITHOFFSETS: [2], // Material
};

export interface MaterialAssociationInput {
  /** Every IFCMATERIAL instance. */
  materials: { expressId: number; name: string }[];
  /** Material definitions (not materials) and the ids their MATERIAL_EDGES attributes name. */
  definitions: Map<number, readonly number[]>;
  /** Every IFCRELASSOCIATESMATERIAL. */
  associations: { relatingMaterial: number | null; relatedObjects: readonly number[] }[];
}

export interface MaterialAssociation {
  expressId: number;
  name: string;
  associatedObjects: number;
}

export function countMaterialAssociations(input: MaterialAssociationInput): MaterialAssociation[] {
  const materialIds = new Set(input.materials.map((m) => m.expressId));
  const reached = new Map<number, Set<number>>();
  const reachCache = new Map<number, readonly number[]>();

  for (const association of input.associations) {
    if (association.relatingMaterial === null) continue;
    for (const material of reachableMaterials(association.relatingMaterial, materialIds, input.definitions, reachCache)) {
      let objects = reached.get(material);
      if (!objects) reached.set(material, (objects = new Set()));
      for (const object of association.relatedObjects) objects.add(object);
    }
  }

  return [...input.materials]
    .sort((a, b) => a.expressId - b.expressId)
    .map((m) => ({ expressId: m.expressId, name: m.name, associatedObjects: reached.get(m.expressId)?.size ?? 0 }));
}

/** Iterative walk with a visited set: a cyclic or very deep definition cannot overflow the stack. */
function reachableMaterials(
  start: number,
  materialIds: ReadonlySet<number>,
  definitions: ReadonlyMap<number, readonly number[]>,
  cache: Map<number, readonly number[]>,
): readonly number[] {
  const cached = cache.get(start);
  if (cached) return cached;
  const found = new Set<number>();
  const visited = new Set<number>([start]);
  const pending = [start];
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    if (materialIds.has(id)) {
      found.add(id);
      continue;
    }
    for (const next of definitions.get(id) ?? []) {
      if (visited.has(next)) continue;
      visited.add(next);
      pending.push(next);
    }
  }
  const result = [...found];
  cache.set(start, result);
  return result;
}
