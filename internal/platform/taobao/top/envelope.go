package top

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrorKey is the top-level key of TOP's error envelope.
const ErrorKey = "error_response"

// ResponseKey is the top-level key of a method's success envelope: the
// method without its "taobao." prefix, dots as underscores, followed by
// "_response" (taobao.sellercenter.roles.get: sellercenter_roles_get_response).
func ResponseKey(method string) string {
	return strings.ReplaceAll(strings.TrimPrefix(method, "taobao."), ".", "_") + "_response"
}

// ErrorResponse is the body of TOP's error envelope,
// {"error_response": {"code", "msg", "sub_code", "sub_msg", "request_id"}}.
type ErrorResponse struct {
	// Code is TOP's numeric error code (sent as a number; a numeric string
	// is accepted, anything else reads as 0, unknown).
	Code      int64  `json:"code"`
	Msg       string `json:"msg,omitempty"`
	SubCode   string `json:"sub_code,omitempty"`
	SubMsg    string `json:"sub_msg,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// UnmarshalJSON reads the error body, accepting the code as a number or a
// string.
func (e *ErrorResponse) UnmarshalJSON(data []byte) error {
	var raw struct {
		Code      lenientInt `json:"code"`
		Msg       text       `json:"msg"`
		SubCode   text       `json:"sub_code"`
		SubMsg    text       `json:"sub_msg"`
		RequestID text       `json:"request_id"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*e = ErrorResponse{Code: int64(raw.Code), Msg: string(raw.Msg), SubCode: string(raw.SubCode),
		SubMsg: string(raw.SubMsg), RequestID: string(raw.RequestID)}
	return nil
}

// Envelope is a decoded TOP answer: exactly one of Response and Error is set.
type Envelope struct {
	// Response is the object under the method's ResponseKey.
	Response json.RawMessage
	// Error is the error envelope's body.
	Error *ErrorResponse
}

// ParseEnvelope decodes a TOP answer to method. An error envelope wins
// over anything else in the answer; otherwise the answer must hold an
// object under ResponseKey(method). Anything else (not JSON, not an
// object, neither key) is an error: the answer is not TOP's.
func ParseEnvelope(method string, data []byte) (Envelope, error) {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(data, &root); err != nil {
		return Envelope{}, fmt.Errorf("the answer is not a JSON object: %w", err)
	}
	if root == nil {
		return Envelope{}, errors.New("the answer is null")
	}
	if raw, ok := root[ErrorKey]; ok {
		if !isObject(raw) {
			return Envelope{}, fmt.Errorf("%s is not an object", ErrorKey)
		}
		var e ErrorResponse
		if err := json.Unmarshal(raw, &e); err != nil {
			return Envelope{}, fmt.Errorf("decoding %s: %w", ErrorKey, err)
		}
		return Envelope{Error: &e}, nil
	}
	key := ResponseKey(method)
	raw, ok := root[key]
	if !ok {
		return Envelope{}, fmt.Errorf("the answer has neither %s nor %s", key, ErrorKey)
	}
	if !isObject(raw) {
		return Envelope{}, fmt.Errorf("%s is not an object", key)
	}
	return Envelope{Response: raw}, nil
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// List is a TOP list field in any of the shapes TOP sends: a plain array
// (simplify=true), an array wrapped in a one-key object ({"sub_user_info":
// [...]}, simplify=false), a one-key object wrapping a single element, an
// empty object {} or null (no elements).
type List[T any] []T

func (l *List[T]) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	*l = nil
	switch {
	case len(data) == 0 || string(data) == "null":
		return nil
	case data[0] == '[':
		var items []T
		if err := json.Unmarshal(data, &items); err != nil {
			return err
		}
		if len(items) > 0 {
			*l = items
		}
		return nil
	case data[0] == '{':
		var wrapper map[string]json.RawMessage
		if err := json.Unmarshal(data, &wrapper); err != nil {
			return err
		}
		if len(wrapper) == 0 {
			return nil
		}
		if len(wrapper) > 1 {
			return errors.New("a list wrapper must have exactly one key")
		}
		for _, inner := range wrapper {
			inner = bytes.TrimSpace(inner)
			switch {
			case len(inner) == 0 || string(inner) == "null":
				return nil
			case inner[0] == '[':
				var items []T
				if err := json.Unmarshal(inner, &items); err != nil {
					return err
				}
				if len(items) > 0 {
					*l = items
				}
			default:
				var item T
				if err := json.Unmarshal(inner, &item); err != nil {
					return err
				}
				*l = List[T]{item}
			}
		}
		return nil
	}
	return errors.New("a list must be an array or an object wrapping one")
}

// text is a string field that also accepts a number or a boolean (as its
// JSON text) and null (empty).
type text string

func (t *text) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case string(data) == "null":
		*t = ""
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*t = text(s)
	case string(data) == "true" || string(data) == "false":
		*t = text(data)
	default:
		var n json.Number
		if err := json.Unmarshal(data, &n); err != nil {
			return err
		}
		*t = text(n)
	}
	return nil
}

// ID is a TOP numeric ID (a Java long) kept as its decimal text, so IDs
// beyond 2^53 survive. A number or a string is accepted; null is "".
type ID string

func (i *ID) UnmarshalJSON(data []byte) error {
	var t text
	if err := json.Unmarshal(data, &t); err != nil {
		return err
	}
	s := strings.TrimSpace(string(t))
	if s == "" || s == "0" {
		*i = ""
		return nil
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return fmt.Errorf("%q is not an integer ID", s)
	}
	*i = ID(s)
	return nil
}

// lenientInt is an integer field that accepts a number or a numeric
// string; anything unreadable, fractional or out of range is 0.
type lenientInt int64

func (n *lenientInt) UnmarshalJSON(data []byte) error {
	var t text
	if err := json.Unmarshal(data, &t); err != nil {
		*n = 0
		return nil // lenient by design
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(t)), 10, 64)
	if err != nil {
		v = 0
	}
	*n = lenientInt(v)
	return nil
}

// Flag is a boolean field that TOP sends as true/false, "true"/"false",
// 1/0 or "1"/"0"; null and "" are false.
type Flag bool

func (f *Flag) UnmarshalJSON(data []byte) error {
	var t text
	if err := json.Unmarshal(data, &t); err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(string(t))) {
	case "true", "1":
		*f = true
	case "false", "0", "":
		*f = false
	default:
		return fmt.Errorf("%q is not a boolean", string(t))
	}
	return nil
}

// Num is an integer field sent as a number or a numeric string; null and
// "" are 0.
type Num int64

func (n *Num) UnmarshalJSON(data []byte) error {
	var t text
	if err := json.Unmarshal(data, &t); err != nil {
		return err
	}
	s := strings.TrimSpace(string(t))
	if s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	*n = Num(v)
	return nil
}
