// The RPC message schema, embedded so it is found both from source and from
// the compiled dist/ (tsc does not copy .proto files). rpc.proto is the same
// text for humans and protoc; test/unit/vswitchd/rpc/framing.test.ts checks
// that the two agree.

export const RPC_PROTO = `// tsvs management RPC (vswitchd/rpc/server.ts, ctl/rpc-client.ts).
// Framing, outside protobuf: [u32 BE payload length][payload], payload at most
// 4 MiB unless both ends agree otherwise. One Request -> one Response with the
// same id; a client may pipeline requests, answers may come out of order.
// Values (ops, rows, conditions) travel as JSON text: OVSDB datums, with a
// map written {"$map": [[key, value], ...]} (see value-json.ts).
// Keep in sync with RPC_PROTO in rpc-proto.ts (a test compares them).
syntax = "proto3";

package tsvs.rpc;

message Request {
  uint32 id = 1;
  oneof kind {
    Transact transact = 2;
    Get get = 3;
    List list = 4;
    Find find = 5;
    WaitForCfg wait_for_cfg = 6;
    Appctl appctl = 7;
    Version version = 8;
    Schema schema = 9;
  }
}

// Runs ops atomically. If expect_txn_id is set (non-zero) and the database has
// moved past it, nothing runs and the error code is "try again" (optimistic
// concurrency for clients that computed ops from a snapshot).
message Transact {
  string ops_json = 1;
  uint64 expect_txn_id = 2;
  // 0: a "wait" that does not hold fails at once; else retried until it holds.
  uint32 timeout_ms = 3;
}
message Get { string table = 1; string uuid = 2; }
message List { string table = 1; }
message Find { string table = 1; string where_json = 2; }
// Resolves once Open_vSwitch.cur_cfg >= next_cfg (the daemon applied the change).
message WaitForCfg { int64 next_cfg = 1; uint32 timeout_ms = 2; }
message Appctl { string command = 1; repeated string args = 2; }
message Version {}
message Schema {}

message Response {
  uint32 id = 1;
  // Empty on success.
  Error error = 2;
  // transact: {"txnId", "results"}; get/list/find: rows; schema: the schema;
  // version: {"version", "txnId"}.
  string result_json = 3;
  // appctl: the command's text output.
  string output = 4;
  // Last committed transaction id when the answer was made.
  uint64 txn_id = 5;
}

message Error {
  // A DbError code ("constraint violation", "try again", "timed out", ...) or
  // "bad request", "unknown command", "command failed".
  string code = 1;
  string message = 2;
  // transact: index of the failing operation, -1 if none.
  int32 op_index = 3;
}
`;
