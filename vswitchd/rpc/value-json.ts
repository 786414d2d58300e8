// Datums in RPC JSON: JSON has no Map, so a map travels as {"$map": [[k, v], ...]}.
// Everything else (atoms, null, arrays, {"namedUuid": n}) is plain JSON.

export function toRpcJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Map ? { $map: [...v.entries()] } : v));
}

export function fromRpcJson(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const m = (v as { $map?: unknown }).$map;
      if (Array.isArray(m) && Object.keys(v).length === 1) return new Map(m as [unknown, unknown][]);
    }
    return v;
  });
}
