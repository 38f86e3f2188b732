// Calls to burrowd's management API (basic auth guest/guest, JSON both ways).
package burrowtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// APIError is a management API answer outside 2xx.
type APIError struct {
	Method, Path string
	Status       int
	Reason       string // the "reason" of burrowd's JSON error, else the raw body
}

func (e *APIError) Error() string {
	return fmt.Sprintf("burrowtest: %s %s -> %d %s", e.Method, e.Path, e.Status, e.Reason)
}

// API calls the management API: in (if not nil) is sent as JSON, and a 2xx answer's JSON
// body is decoded into out (if not nil). Any RabbitMQ management path works, e.g.
// b.API("GET", "/api/queues/%2F/orders", nil, &q). It returns *APIError for a status
// outside 2xx, and the transport or decoding error otherwise.
func (b *Broker) API(method, path string, in, out any) error {
	return b.call(context.Background(), method, path, in, out)
}

func (b *Broker) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		encoded, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(encoded)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.HTTPURL+path, body)
	if err != nil {
		return err
	}
	req.SetBasicAuth("guest", "guest")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return fmt.Errorf("burrowtest: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("burrowtest: %s %s: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := &APIError{Method: method, Path: path, Status: resp.StatusCode, Reason: string(raw)}
		var e struct{ Reason string }
		if json.Unmarshal(raw, &e) == nil && e.Reason != "" {
			apiErr.Reason = e.Reason
		}
		return apiErr
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("burrowtest: %s %s: decoding %q: %w", method, path, raw, err)
	}
	return nil
}
