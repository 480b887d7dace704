package schemareg

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/twmb/franz-go/pkg/sr"
)

// jsonMainURL is the location given to a registry JSON schema (its
// references have theirs: their names, which its $refs use).
const jsonMainURL = "gale-registry:///schema.json"

// noLoader refuses every URL a JSON schema refers to that is not among
// its references: nothing is fetched, and no local file is read.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%q is not among the schema's references", url)
}

// jsonCompile compiles a registry JSON schema with its references
// (fetched by subject and version). A registry error is returned as it
// is; any other wraps ErrBadSchema.
func jsonCompile(ctx context.Context, c *Client, s sr.Schema) (*jsonschema.Schema, error) {
	if s.Type != sr.TypeJSON {
		return nil, fmt.Errorf("%w: a %s schema, not JSON", ErrBadSchema, s.Type)
	}
	comp := jsonschema.NewCompiler()
	comp.UseLoader(noLoader{})
	// the referenced schemas, as resources under their names
	err := walkReferences(ctx, c, s.References, refName, func(ref sr.SchemaReference, ss sr.SubjectSchema) error {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(ss.Schema.Schema))
		if err == nil {
			err = comp.AddResource(ref.Name, doc)
		}
		if err != nil {
			return fmt.Errorf("%w: reference %q: %w", ErrBadSchema, ref.Name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(s.Schema))
	if err != nil {
		return nil, fmt.Errorf("%w: json schema: %w", ErrBadSchema, err)
	}
	if err := comp.AddResource(jsonMainURL, doc); err != nil {
		return nil, fmt.Errorf("%w: json schema: %w", ErrBadSchema, err)
	}
	sch, err := comp.Compile(jsonMainURL)
	if err != nil {
		return nil, fmt.Errorf("%w: json schema: %w", ErrBadSchema, err)
	}
	return sch, nil
}

// jsonDecode decodes one JSON document (numbers as json.Number, as the
// kafka spout's json deserializer does) and validates it against sch.
func jsonDecode(sch *jsonschema.Schema, payload []byte) (any, error) {
	doc, err := DecodeJSON(payload)
	if err != nil {
		return nil, err
	}
	if err := sch.Validate(doc); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrMalformed, truncate(err.Error(), 500))
	}
	return doc, nil
}

// DecodeJSON decodes one JSON document, numbers as json.Number; data after
// it is an error. Errors wrap ErrMalformed.
func DecodeJSON(b []byte) (any, error) {
	var doc any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: not JSON: %w", ErrMalformed, err)
	}
	if d.More() {
		return nil, fmt.Errorf("%w: data after the JSON document", ErrMalformed)
	}
	return doc, nil
}
