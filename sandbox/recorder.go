package sandbox

import (
	"encoding/json"
	"net/http"
)

// Recorder wraps a ResponseWriter and keeps the status and the first 512
// bytes of the answer written through it, so a test's middleware in front
// of an emulator can count what the emulator answered.
type Recorder struct {
	http.ResponseWriter
	Status int    // 0 until the answer starts; 200 when written without WriteHeader
	Body   []byte // the start of the body
}

func (r *Recorder) WriteHeader(code int) { r.Status = code; r.ResponseWriter.WriteHeader(code) }

func (r *Recorder) Write(b []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	if len(r.Body) < 512 {
		r.Body = append(r.Body, b[:min(len(b), 512-len(r.Body))]...)
	}
	return r.ResponseWriter.Write(b)
}

// T2Details is the "details" text of a T2 403 answer recorded by r, ""
// for any other answer.
func (r *Recorder) T2Details() string {
	if r.Status != http.StatusForbidden {
		return ""
	}
	var e t2Error
	_ = json.Unmarshal(r.Body, &e)
	return e.Details
}
