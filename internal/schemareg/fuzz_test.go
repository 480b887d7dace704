package schemareg

import (
	"testing"
)

// FuzzWireFormat feeds hostile values to the wire-format parser and the
// Avro and Protobuf payload decoders (with fixed schemas: no registry):
// they must return an error or a value, never panic, hang or allocate
// without bound.
func FuzzWireFormat(f *testing.F) {
	as, err := ParseAvro(avroAll)
	if err != nil {
		f.Fatal(err)
	}
	fd := protoDescriptor(f)
	f.Add([]byte{0, 0, 0, 0, 1, 0, 2, 'h', 'i'})
	f.Add([]byte{0, 0, 0, 0, 1, 4, 2, 0, 8, 1})
	f.Add([]byte{0, 0, 0, 0, 1, 0, 0x0a, 0x80, 0x80, 0x80, 0x80, 0x08})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, payload, err := ParseHeader(b)
		if err != nil {
			return
		}
		_, _ = avroDecode(as, payload)
		indexes, rest, err := ParseMessageIndexes(payload)
		if err != nil {
			return
		}
		if md, err := protoMessage(fd, indexes); err == nil {
			_, _ = protoDecode(md, rest)
		}
		_, _ = DecodeJSON(rest)
	})
}
