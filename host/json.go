package host

import (
	"bytes"
	"encoding/json"
)

// marshal encodes v as JSON for a plugin without HTML escaping: encoding/json turns every
// '<', '>' and '&' into six bytes, which for a saved web page multiplies what crosses into
// the sandbox (8 bytes per host call) for no reader's benefit.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
