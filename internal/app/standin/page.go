package standin

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// relaySecretAttr is the attribute of the relay page's script element that
// carries the per-run secret (see the relay contract in package flow).
const relaySecretAttr = "data-relay-secret"

// field is one form control that can contribute to a submission.
type field struct {
	name, typ, value string
	checked          bool
}

// form is an HTML form as a browser would submit it.
type form struct {
	action, method, enctype string
	fields                  []field
	// submit is the form's default button, which implicit submission
	// (pressing Enter) sends along when it has a name.
	submit *field
}

// page is what the stand-in needs from an HTML page.
type page struct {
	forms       []*form
	relaySecret string
	base        *url.URL
}

// parsePage tokenizes an HTML page. A tokenizer rather than a tree parser
// is enough: the stand-in reads forms, inputs and one script attribute,
// and the tokenizer already treats script, style and textarea contents as
// raw text, so markup inside them is never mistaken for a form.
func parsePage(body []byte, pageURL *url.URL) *page {
	p := &page{base: pageURL}
	z := html.NewTokenizer(bytes.NewReader(body))
	var cur *form
	baseSeen := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return p
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				key := string(k)
				if _, dup := attrs[key]; !dup { // the first of a repeated attribute wins, as in browsers
					attrs[key] = string(v)
				}
			}
			switch string(name) {
			case "base":
				if href, ok := attrs["href"]; ok && !baseSeen {
					baseSeen = true
					if u, err := pageURL.Parse(strings.TrimSpace(href)); err == nil {
						p.base = u
					}
				}
			case "form":
				if cur == nil { // HTML ignores a form start tag inside a form
					cur = &form{
						action:  strings.TrimSpace(attrs["action"]),
						method:  strings.ToLower(strings.TrimSpace(attrs["method"])),
						enctype: strings.ToLower(strings.TrimSpace(attrs["enctype"])),
					}
					p.forms = append(p.forms, cur)
				}
			case "input":
				if cur == nil {
					break
				}
				if _, disabled := attrs["disabled"]; disabled {
					break
				}
				typ := strings.ToLower(strings.TrimSpace(attrs["type"]))
				if typ == "" {
					typ = "text"
				}
				_, checked := attrs["checked"]
				f := field{name: attrs["name"], typ: typ, value: attrs["value"], checked: checked}
				if (typ == "submit" || typ == "image") && cur.submit == nil {
					cur.submit = &f
				}
				cur.fields = append(cur.fields, f)
			case "button":
				if cur == nil {
					break
				}
				if _, disabled := attrs["disabled"]; disabled {
					break
				}
				typ := strings.ToLower(strings.TrimSpace(attrs["type"]))
				if (typ == "" || typ == "submit") && cur.submit == nil {
					cur.submit = &field{name: attrs["name"], typ: "submit", value: attrs["value"]}
				}
			case "script":
				if s, ok := attrs[relaySecretAttr]; ok && p.relaySecret == "" {
					p.relaySecret = s
				}
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "form" {
				cur = nil
			}
		}
	}
}

// passwordForm returns the first form with a password input.
func (p *page) passwordForm() *form {
	for _, f := range p.forms {
		for _, fl := range f.fields {
			if fl.typ == "password" {
				return f
			}
		}
	}
	return nil
}

// autoForm returns the first form that a person could only click through:
// hidden inputs and buttons, nothing to fill in. That is the shape of a
// form_post response page (which a script submits on load) and of a
// consent page that needs nothing but "continue".
func (p *page) autoForm() *form {
	for _, f := range p.forms {
		auto := true
		for _, fl := range f.fields {
			switch fl.typ {
			case "hidden", "submit", "button", "image", "reset":
			default:
				auto = false
			}
		}
		if auto {
			return f
		}
	}
	return nil
}

// usernameNames are the names a sign-in form's username input goes by.
var usernameNames = []string{"username", "login", "email", "user", "identifier"}

func textLike(typ string) bool {
	switch typ {
	case "text", "email", "tel", "search", "url":
		return true
	}
	return false
}

// values builds the form's data set as a browser submits it (HTML
// "constructing the entry list"), with the username and password filled in
// when fill is set.
func (f *form) values(fill bool, username, password string) url.Values {
	userField := -1
	if fill {
		for _, want := range usernameNames {
			for i, fl := range f.fields {
				if textLike(fl.typ) && strings.EqualFold(fl.name, want) {
					userField = i
					break
				}
			}
			if userField >= 0 {
				break
			}
		}
		if userField < 0 {
			for i, fl := range f.fields {
				if textLike(fl.typ) && fl.name != "" {
					userField = i
					break
				}
			}
		}
	}
	v := url.Values{}
	passwordDone := false
	for i, fl := range f.fields {
		if fl.name == "" {
			continue
		}
		switch fl.typ {
		case "submit", "image", "button", "reset", "file":
			continue
		case "checkbox", "radio":
			if fl.checked {
				val := fl.value
				if val == "" {
					val = "on"
				}
				v.Add(fl.name, val)
			}
		case "password":
			if fill && !passwordDone {
				v.Add(fl.name, password)
				passwordDone = true
			} else {
				v.Add(fl.name, fl.value)
			}
		default:
			if i == userField {
				v.Add(fl.name, username)
			} else {
				v.Add(fl.name, fl.value)
			}
		}
	}
	if f.submit != nil && f.submit.name != "" && f.submit.typ != "image" {
		v.Add(f.submit.name, f.submit.value)
	}
	return v
}
