package votbox

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/calletl/calletl/extract/httpx"
)

// Element is one XML element of a VotBox answer, decoded to UTF-8. Names
// are kept as sent (without namespace prefixes); lookups ignore case.
type Element struct {
	Name     string
	Attrs    []xml.Attr // without namespace declarations
	Children []*Element
	Text     string // the element's own character data, trimmed
}

// Field returns the value of the field name (case-insensitive): an
// attribute, or else a child element without children of its own (its
// trimmed text). ok is false when neither exists.
func (e *Element) Field(name string) (v string, ok bool) {
	for _, a := range e.Attrs {
		if strings.EqualFold(a.Name.Local, name) {
			return strings.TrimSpace(a.Value), true
		}
	}
	for _, c := range e.Children {
		if len(c.Children) == 0 && strings.EqualFold(c.Name, name) {
			return c.Text, true
		}
	}
	return "", false
}

// fieldsJSON returns the fields of e (attributes and childless children)
// whose lower-cased names are not in known, as a JSON object with the names
// as sent; "" when there are none. The first occurrence of a name wins.
func (e *Element) fieldsJSON(known map[string]bool) string {
	var (
		buf   bytes.Buffer
		seen  = map[string]bool{}
		count int
	)
	add := func(name, v string) {
		k := strings.ToLower(name)
		if known[k] || seen[k] {
			return
		}
		seen[k] = true
		if count == 0 {
			buf.WriteByte('{')
		} else {
			buf.WriteByte(',')
		}
		count++
		kb, _ := json.Marshal(name)
		vb, _ := json.Marshal(v)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	for _, a := range e.Attrs {
		add(a.Name.Local, strings.TrimSpace(a.Value))
	}
	for _, c := range e.Children {
		if len(c.Children) == 0 {
			add(c.Name, c.Text)
		}
	}
	if count == 0 {
		return ""
	}
	buf.WriteByte('}')
	return buf.String()
}

// XML returns e re-encoded as UTF-8 XML: the element as the decoder saw it
// (attributes and children in the order sent, character data trimmed).
// It is what rejects keep as the raw payload.
func (e *Element) XML() string {
	var b strings.Builder
	e.writeXML(&b)
	return b.String()
}

func (e *Element) writeXML(b *strings.Builder) {
	b.WriteByte('<')
	b.WriteString(e.Name)
	for _, a := range e.Attrs {
		b.WriteByte(' ')
		b.WriteString(a.Name.Local)
		b.WriteString(`="`)
		_ = xml.EscapeText(b, []byte(a.Value))
		b.WriteByte('"')
	}
	if len(e.Children) == 0 && e.Text == "" {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	_ = xml.EscapeText(b, []byte(e.Text))
	for _, c := range e.Children {
		c.writeXML(b)
	}
	b.WriteString("</")
	b.WriteString(e.Name)
	b.WriteByte('>')
}

// Answer is a decoded VotBox answer that is not an error.
type Answer struct {
	Root  *Element
	Tasks []*Element // every <task> element, in document order
	Items []*Element // every <item> element, in document order (also inside a task)
}

// APIError is an answer of the form <error code="N">text</error> (code as an
// attribute or a child element). Its text is VotBox error N "text".
type APIError struct {
	Code string
	Text string
}

// ErrAuth is wrapped by error 1 (wrong login or password): fatal for the
// source, so the pipeline stops it at the first refusal (httpx.IsFatal).
var ErrAuth = httpx.ErrAuth

// ErrNotFound is wrapped by errors 4, 5 and 6 (task, call or record not
// found).
var ErrNotFound = errors.New("not found")

// Unwrap returns the sentinel of the code's class, or nil.
func (e *APIError) Unwrap() error {
	switch e.Code {
	case "1":
		return ErrAuth
	case "4", "5", "6":
		return ErrNotFound
	}
	return nil
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("VotBox error %q", e.Text)
	}
	return fmt.Sprintf("VotBox error %s %q", e.Code, e.Text)
}

// ErrUnreadable is wrapped by every error about a body that is not a
// readable XML answer.
var ErrUnreadable = errors.New("unreadable answer")

// maxDepth bounds element nesting; VotBox answers are three levels deep.
const maxDepth = 64

// headLen is how much of an unreadable body an error quotes.
const headLen = 120

// head returns the first bytes of body for an error message, as a quoted
// Go string (invalid UTF-8 shown as escapes).
func head(body []byte) string {
	if len(body) <= headLen {
		return fmt.Sprintf("%q", body)
	}
	n := headLen
	for n > 0 && !utf8.RuneStart(body[n]) {
		n--
	}
	return fmt.Sprintf("%q…", body[:n])
}

// Decode reads a VotBox answer. The charset comes from the XML declaration
// (utf-8 or windows-1251); charsetHint (e.g. from Content-Type) applies only
// when the body has no declaration. Each field may be an attribute or a
// child element; names match case-insensitively. An <error> answer is
// returned as *APIError; a body that is not well-formed XML as an error
// wrapping ErrUnreadable that quotes its first bytes.
func Decode(body []byte, charsetHint string) (*Answer, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	trimmed = bytes.TrimPrefix(trimmed, []byte("\xef\xbb\xbf"))
	if !bytes.HasPrefix(trimmed, []byte("<?xml")) && charsetKind(charsetHint) == "windows-1251" {
		trimmed = appendCP1251(nil, trimmed)
	}
	root, err := parse(trimmed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v; body starts %s", ErrUnreadable, err, head(body))
	}
	if apiErr := findError(root); apiErr != nil {
		return nil, apiErr
	}
	a := &Answer{Root: root}
	var walk func(e *Element)
	walk = func(e *Element) {
		for _, c := range e.Children {
			switch {
			case strings.EqualFold(c.Name, "task"):
				a.Tasks = append(a.Tasks, c)
			case strings.EqualFold(c.Name, "item"):
				a.Items = append(a.Items, c)
				continue // an item's children are its fields
			}
			walk(c)
		}
	}
	if strings.EqualFold(root.Name, "task") {
		a.Tasks = append(a.Tasks, root)
	}
	if strings.EqualFold(root.Name, "item") {
		a.Items = append(a.Items, root)
	} else {
		walk(root)
	}
	return a, nil
}

// findError returns the error the answer carries: the root itself or a
// child of it named error.
func findError(root *Element) *APIError {
	e := root
	if !strings.EqualFold(root.Name, "error") {
		e = nil
		for _, c := range root.Children {
			if strings.EqualFold(c.Name, "error") {
				e = c
				break
			}
		}
	}
	if e == nil {
		return nil
	}
	code, _ := e.Field("code")
	text := e.Text
	for _, name := range []string{"text", "message", "msg", "description", "error"} {
		if text != "" {
			break
		}
		text, _ = e.Field(name)
	}
	return &APIError{Code: code, Text: text}
}

// parse builds the element tree of one XML document.
func parse(body []byte) (*Element, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.CharsetReader = charsetReader
	var (
		root  *Element
		stack []*Element
		text  [][]byte
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, errors.New("more than one root element")
			}
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("elements nested deeper than %d", maxDepth)
			}
			e := &Element{Name: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				e.Attrs = append(e.Attrs, xml.Attr{Name: xml.Name{Local: a.Name.Local}, Value: a.Value})
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, e)
			} else {
				root = e
			}
			stack = append(stack, e)
			text = append(text, nil)
		case xml.EndElement:
			e := stack[len(stack)-1]
			e.Text = strings.TrimSpace(string(text[len(text)-1]))
			stack = stack[:len(stack)-1]
			text = text[:len(text)-1]
		case xml.CharData:
			if len(stack) > 0 {
				text[len(text)-1] = append(text[len(text)-1], t...)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, errors.New("text outside the root element")
			}
		}
	}
	if root == nil {
		return nil, errors.New("no XML element")
	}
	if len(stack) > 0 {
		return nil, errors.New("unexpected end of the body inside <" + stack[len(stack)-1].Name + ">")
	}
	return root, nil
}
