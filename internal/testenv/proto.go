package testenv

// OrderProto is a Protobuf schema (order.proto) with every kind of field:
// nested and repeated messages, maps, an enum, a Timestamp, an optional
// field, and a nested message type (Other.Deep); the registry tests of
// the decoders and of the kafka spout use it.
const OrderProto = `syntax = "proto3";
package gale.test;
import "google/protobuf/timestamp.proto";
message Order {
  enum Status { NEW = 0; PAID = 1; SHIPPED = 2; }
  message Line { string sku = 1; uint32 qty = 2; }
  int64 id = 1;
  Status status = 2;
  repeated Line lines = 3;
  map<string, int32> tags = 4;
  google.protobuf.Timestamp at = 5;
  bytes blob = 6;
  sint32 delta = 7;
  fixed64 big = 8;
  float ratio = 9;
  Line main = 10;
  optional string note = 11;
  map<int32, string> names = 12;
}
message Other { string x = 1; message Deep { bool ok = 1; } }
`
