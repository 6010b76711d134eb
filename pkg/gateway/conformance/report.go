package conformance

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Outcome of one check.
type Outcome string

const (
	Passed  Outcome = "passed"
	Failed  Outcome = "failed"
	Skipped Outcome = "skipped"
)

// Result is one check's outcome. For a failure, Request is the request
// that went wrong, as sent and answered, without a secret: no header but
// Idempotency-Key, passwords and codes in the body replaced.
type Result struct {
	Check   string   `json:"check"`
	Outcome Outcome  `json:"outcome"`
	Reason  string   `json:"reason,omitempty"`
	Request *Request `json:"request,omitempty"`
}

// Request is a request the suite sent and what came back.
type Request struct {
	Method string `json:"method"`
	// Path is the escaped path and query, from /v1 on.
	Path           string `json:"path"`
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	Body           string `json:"body,omitempty"`
	// Status is the answer's status, 0 when none came (Error says why).
	Status int    `json:"status"`
	Answer string `json:"answer,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Report is every check's result, in the order they ran.
type Report struct {
	Endpoint string   `json:"endpoint"`
	Shop     string   `json:"shop"`
	Results  []Result `json:"results"`
}

// Failed lists the checks that failed.
func (r Report) Failed() []string {
	var out []string
	for _, res := range r.Results {
		if res.Outcome == Failed {
			out = append(out, res.Check)
		}
	}
	return out
}

// Passed reports whether no check failed.
func (r Report) Passed() bool { return len(r.Failed()) == 0 }

// WriteText writes the report for people: one line per check, the failing
// request under a failed one, and a summary.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "gateway conformance: %s, shop %s\n", r.Endpoint, r.Shop)
	counts := map[Outcome]int{}
	for _, res := range r.Results {
		counts[res.Outcome]++
		fmt.Fprintf(&b, "%-8s %s", strings.ToUpper(string(res.Outcome)), res.Check)
		if res.Reason != "" {
			fmt.Fprintf(&b, ": %s", res.Reason)
		}
		b.WriteByte('\n')
		if q := res.Request; q != nil {
			fmt.Fprintf(&b, "         request: %s %s", q.Method, q.Path)
			if q.IdempotencyKey != "" {
				fmt.Fprintf(&b, " (Idempotency-Key %s)", q.IdempotencyKey)
			}
			b.WriteByte('\n')
			if q.Body != "" {
				fmt.Fprintf(&b, "         body:    %s\n", q.Body)
			}
			if q.Error != "" {
				fmt.Fprintf(&b, "         error:   %s\n", q.Error)
			} else {
				fmt.Fprintf(&b, "         answer:  %d %s\n", q.Status, q.Answer)
			}
		}
	}
	fmt.Fprintf(&b, "%d passed, %d failed, %d skipped\n", counts[Passed], counts[Failed], counts[Skipped])
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as one JSON object.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
