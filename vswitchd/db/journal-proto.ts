// The journal record schema, embedded so it is found both from source and from
// the compiled dist/ (tsc does not copy .proto files). journal.proto is the
// same text for humans and protoc; test/unit/vswitchd/db/journal.test.ts
// checks that the two agree.

export const JOURNAL_PROTO = `// tsvs config DB journal records (vswitchd/db/journal.ts).
// Framing, outside protobuf: [u32 BE length][u32 BE CRC-32C of payload][payload].
// The first record of a journal is a Header; then Transactions, or a Snapshot
// (written by compaction) followed by Transactions.
// Keep in sync with JOURNAL_PROTO in journal-proto.ts (a test compares them).
syntax = "proto3";

package tsvs.configdb;

message Record {
  oneof kind {
    Header header = 1;
    Transaction transaction = 2;
    Snapshot snapshot = 3;
  }
}

message Header {
  string magic = 1;           // "tsvs-configdb"
  uint32 format_version = 2;  // 1
  string schema_name = 3;     // "Open_vSwitch"
  string schema_version = 4;  // "8.3.1"
  int64 created_ms = 5;
}

// One committed transaction: only the rows it changed, only durable columns.
message Transaction {
  uint64 txn_id = 1;
  int64 time_ms = 2;
  string comment = 3;
  repeated RowDelta rows = 4;
}

// The whole database at txn_id: every row as an INSERT.
message Snapshot {
  uint64 txn_id = 1;
  int64 time_ms = 2;
  repeated RowDelta rows = 3;
}

message RowDelta {
  enum Op {
    INSERT = 0;  // columns: those that differ from the default
    MODIFY = 1;  // columns: those that changed
    DELETE = 2;  // no columns
  }
  string table = 1;
  bytes uuid = 2;  // 16 bytes
  Op op = 3;
  repeated Column columns = 4;
}

// A column value: keys are the 0..1 atoms of a scalar/optional column, the
// elements of a set, or the keys of a map; values are the map's values.
message Column {
  string name = 1;
  repeated Atom keys = 2;
  repeated Atom values = 3;
}

message Atom {
  oneof value {
    sint64 integer = 1;
    double real = 2;
    bool boolean = 3;
    string string = 4;
    bytes uuid = 5;
  }
}
`;
