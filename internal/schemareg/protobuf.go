package schemareg

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// protoMainFile is the import path given to a registry schema held as
// .proto text (its references have theirs, from the registry).
const protoMainFile = "gale-registry-schema.proto"

// protoCompile builds the file descriptor of a registry Protobuf schema
// and of its references (fetched from the registry by subject and
// version). The registry holds a schema either as .proto text or as a
// base64 serialized FileDescriptorProto (what Confluent's Python
// serializer registers); both are read. Imports of Google's well-known
// types (google/protobuf/timestamp.proto...) need no reference. A registry
// error is returned as it is; any other wraps ErrBadSchema.
func protoCompile(ctx context.Context, c *Client, s sr.Schema) (protoreflect.FileDescriptor, error) {
	if s.Type != sr.TypeProtobuf {
		return nil, fmt.Errorf("%w: a %s schema, not PROTOBUF", ErrBadSchema, s.Type)
	}
	files := map[string]protoFile{}
	// the referenced schemas, under their import paths (a reference's name)
	err := walkReferences(ctx, c, s.References, refName, func(ref sr.SchemaReference, ss sr.SubjectSchema) error {
		res := protoSource(ss.Schema.Schema)
		if res.fdp != nil {
			res.fdp.Name = proto.String(ref.Name)
		}
		files[ref.Name] = res
		return nil
	})
	if err != nil {
		return nil, err
	}
	main := protoMainFile
	res := protoSource(s.Schema)
	if res.fdp != nil {
		if n := res.fdp.GetName(); n != "" {
			main = n
		} else {
			res.fdp.Name = proto.String(main)
		}
	}
	if _, dup := files[main]; dup {
		return nil, fmt.Errorf("%w: the schema and one of its references are both %q", ErrBadSchema, main)
	}
	files[main] = res
	comp := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(protocompile.ResolverFunc(func(path string) (protocompile.SearchResult, error) {
			f, ok := files[path]
			switch {
			case !ok:
				return protocompile.SearchResult{}, fmt.Errorf("import %q: not among the schema's references: %w", path, errNoFile)
			case f.fdp != nil:
				return protocompile.SearchResult{Proto: f.fdp}, nil
			default:
				return protocompile.SearchResult{Source: strings.NewReader(f.text)}, nil
			}
		})),
	}
	out, err := comp.Compile(ctx, main)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: compiling the schema: %w", ErrRegistryUnavailable, ctx.Err())
		}
		return nil, fmt.Errorf("%w: protobuf: %w", ErrBadSchema, err)
	}
	return out[0], nil
}

var errNoFile = errors.New("file not found")

// protoFile is a registry schema: .proto text, or a FileDescriptorProto.
type protoFile struct {
	text string
	fdp  *descriptorpb.FileDescriptorProto
}

// protoSource reads a registry schema: a FileDescriptorProto when it is
// one in base64, else .proto text.
func protoSource(schema string) protoFile {
	t := strings.TrimSpace(schema)
	if b, err := base64.StdEncoding.DecodeString(t); err == nil && len(b) > 0 {
		var fdp descriptorpb.FileDescriptorProto
		if proto.Unmarshal(b, &fdp) == nil && (fdp.GetSyntax() != "" || len(fdp.GetMessageType()) > 0 || fdp.GetName() != "") {
			return protoFile{fdp: &fdp}
		}
	}
	return protoFile{text: schema}
}

// protoMessage is the message type at indexes in fd: [0] is its first
// top-level message, [1, 2] the third message nested in its second.
func protoMessage(fd protoreflect.FileDescriptor, indexes []int) (protoreflect.MessageDescriptor, error) {
	msgs := fd.Messages()
	var md protoreflect.MessageDescriptor
	for i, idx := range indexes {
		if idx >= msgs.Len() {
			return nil, fmt.Errorf("%w: message index %v: the schema has no message %d at level %d", ErrMalformed, indexes, idx, i)
		}
		md = msgs.Get(idx)
		msgs = md.Messages()
	}
	if md == nil {
		return nil, fmt.Errorf("%w: empty message index", ErrMalformed)
	}
	return md, nil
}

// protoDecode decodes one payload as a message of type md, into the Go
// values of the package doc.
func protoDecode(md protoreflect.MessageDescriptor, payload []byte) (any, error) {
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(payload, m); err != nil {
		return nil, fmt.Errorf("%w: protobuf %s: %w", ErrMalformed, md.FullName(), err)
	}
	return protoMap(m), nil
}

// timestampName is google.protobuf.Timestamp, which becomes a time.Time.
const timestampName protoreflect.FullName = "google.protobuf.Timestamp"

// protoMap is a message as map[string]any keyed by field names: every
// field of the type, an unset field with implicit presence (a proto3
// scalar) at its default, an unset one with explicit presence (a message,
// a oneof member, a proto3 optional) nil.
func protoMap(m protoreflect.Message) map[string]any {
	fields := m.Descriptor().Fields()
	out := make(map[string]any, fields.Len())
	for i := range fields.Len() {
		fd := fields.Get(i)
		name := string(fd.Name())
		switch {
		case fd.IsList():
			l := m.Get(fd).List()
			a := make([]any, l.Len())
			for j := range a {
				a[j] = protoValue(fd, l.Get(j))
			}
			out[name] = a
		case fd.IsMap():
			mp := m.Get(fd).Map()
			o := make(map[string]any, mp.Len())
			mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				o[protoKey(k)] = protoValue(fd.MapValue(), v)
				return true
			})
			out[name] = o
		case fd.HasPresence() && !m.Has(fd):
			out[name] = nil
		default:
			out[name] = protoValue(fd, m.Get(fd))
		}
	}
	return out
}

// protoKey is the text of a map key.
func protoKey(k protoreflect.MapKey) string {
	switch v := k.Interface().(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint32:
		return strconv.FormatUint(uint64(v), 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	}
	return k.String()
}

// protoValue is one value (of a singular field, a list element or a map
// value) of field fd.
func protoValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return v.Bool()
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return int32(v.Int())
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return v.Int()
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return uint32(v.Uint())
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return v.Uint()
	case protoreflect.FloatKind:
		return float32(v.Float())
	case protoreflect.DoubleKind:
		return v.Float()
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BytesKind:
		return append([]byte{}, v.Bytes()...)
	case protoreflect.EnumKind:
		n := v.Enum()
		if ev := fd.Enum().Values().ByNumber(n); ev != nil {
			return string(ev.Name())
		}
		return strconv.Itoa(int(n)) // a number this schema does not name
	case protoreflect.MessageKind, protoreflect.GroupKind:
		m := v.Message()
		if m.Descriptor().FullName() == timestampName {
			f := m.Descriptor().Fields()
			return time.Unix(m.Get(f.ByName("seconds")).Int(), m.Get(f.ByName("nanos")).Int()).UTC()
		}
		return protoMap(m)
	}
	return nil
}
