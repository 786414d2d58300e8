// The database schema as the RPC hands it to clients (the `schema` request):
// what a client needs to parse and print values (tsvs-vsctl's column:key=value
// syntax), self-contained so ctl/ need not import vswitchd/db.

export type RpcAtomicType = 'integer' | 'real' | 'boolean' | 'string' | 'uuid';
export type RpcAtom = string | number | boolean;

export interface RpcBaseType {
  type: RpcAtomicType;
  enum?: RpcAtom[];
  minInteger?: number;
  maxInteger?: number;
  refTable?: string;
  refType?: 'strong' | 'weak';
}

export interface RpcColumn {
  key: RpcBaseType;
  value?: RpcBaseType;
  min: number;
  /** null: unlimited. */
  max: number | null;
  kind: 'scalar' | 'optional' | 'set' | 'map';
  mutable: boolean;
  ephemeral: boolean;
}

export interface RpcTable {
  isRoot: boolean;
  columns: Record<string, RpcColumn>;
  indexes: string[][];
}

export interface RpcSchema {
  name: string;
  version: string;
  tables: Record<string, RpcTable>;
}
