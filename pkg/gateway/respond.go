package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// WriteJSON writes v as the JSON answer with status (no body for 204 or a
// nil v).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	if status == http.StatusNoContent || v == nil {
		w.WriteHeader(status)
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		WriteErrorStatus(w, http.StatusInternalServerError, wire.CodeInternal, "encoding the answer failed")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

// WriteError answers err in the protocol's error shape: its kind picks the
// status and code, and Retry-After is set on 429 (always, at least 1
// second) and on 503 (when the error asks for a wait). An error of no
// known kind is a 500 whose message does not repeat the error's text,
// which may name anything of the provider's; the caller logs it if needed.
func WriteError(w http.ResponseWriter, err error) {
	status, body := wire.ErrorFor(err)
	var pe *platform.Error
	if status == http.StatusInternalServerError && !errors.As(err, &pe) {
		body.Error.Message = "internal error"
	}
	wait, _ := platform.RetryAfter(err)
	switch {
	case status == http.StatusTooManyRequests:
		w.Header().Set(wire.HeaderRetryAfter, RetryAfterSeconds(wait))
	case status == http.StatusServiceUnavailable && wait > 0:
		w.Header().Set(wire.HeaderRetryAfter, RetryAfterSeconds(wait))
	}
	writeBody(w, status, body)
}

// WriteErrorStatus answers status with the error code and message.
func WriteErrorStatus(w http.ResponseWriter, status int, code, message string) {
	writeBody(w, status, wire.ErrorBody{Error: wire.ErrorDetail{Code: code, Message: message}})
}

func writeBody(w http.ResponseWriter, status int, body wire.ErrorBody) {
	data, _ := json.Marshal(body) // a struct of strings always marshals
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

// RetryAfterSeconds renders a wait as whole seconds, rounded up, at least 1.
func RetryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10)
}

// decode reads a JSON body strictly: one object, no unknown fields.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return platform.NewError(platform.ErrInvalid, "", "the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return platform.NewError(platform.ErrInvalid, "", "the request body is not valid: %v", err)
	}
	if dec.More() {
		return platform.NewError(platform.ErrInvalid, "", "the request body must be a single JSON object")
	}
	return nil
}

// noBody accepts an empty body or an empty JSON object.
func noBody(body []byte) error {
	if len(bytes.TrimSpace(body)) > 0 {
		return decode(body, &struct{}{})
	}
	return nil
}

// statusRecorder remembers the status written, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (Hijack).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
