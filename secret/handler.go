package secret

import (
	"context"
	"fmt"
	"log/slog"
)

// NewHandler wraps h so that every record's message, string attributes, error
// attributes (which stay errors, redacted with Redactor.Error), fmt.Stringer
// attributes and the contents of groups are redacted before h sees them.
// Attributes added with WithAttrs are redacted once, when added. A nil r
// returns h unchanged.
func NewHandler(h slog.Handler, r *Redactor) slog.Handler {
	if r == nil {
		return h
	}
	return &handler{next: h, r: r}
}

type handler struct {
	next slog.Handler
	r    *Redactor
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.Redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.attr(a)
	}
	return &handler{next: h.next.WithAttrs(red), r: h.r}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name), r: h.r}
}

// attr returns a with its value redacted. LogValuers are resolved first, so a
// value that computes its log form lazily cannot slip through.
func (h *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.Redact(v.String()))
	case slog.KindGroup:
		group := v.Group()
		red := make([]slog.Attr, len(group))
		for i, g := range group {
			red[i] = h.attr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.Any(a.Key, h.r.Error(x))
		case fmt.Stringer:
			// E.g. a *url.URL with userinfo: replace it by its text only when
			// that text holds a secret, so other values keep their shape.
			if s, ok := stringOf(x); ok {
				if red := h.r.Redact(s); red != s {
					return slog.String(a.Key, red)
				}
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// stringOf calls x.String, reporting false if it panics (a nil pointer with a
// value-receiver method, say); the wrapped handler then formats x its own way.
func stringOf(x fmt.Stringer) (s string, ok bool) {
	defer func() {
		if recover() != nil {
			s, ok = "", false
		}
	}()
	return x.String(), true
}
