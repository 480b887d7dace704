package flux

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// placeholder is ${NAME}, ${ENV-NAME} or ${list[index]}.
var placeholder = regexp.MustCompile(`\$\{([^{}\n]+)\}`)
var listRef = regexp.MustCompile(`^(.+)\[(\d+)\]$`)

// substitute replaces the placeholders of data line by line, as Flux does
// before it parses the YAML: ${ENV-NAME} with the environment variable
// NAME when envFilter is set, ${name} with a property, ${name[i]} with the
// i-th element of a list property ("[\"a\", \"b\"]"). A placeholder with no
// value is left as it is, with a warning.
func substitute(data []byte, file string, props map[string]string, envFilter bool, getenv func(string) (string, bool), warns *errList) []byte {
	if !bytes.Contains(data, []byte("${")) {
		return data
	}
	lines := bytes.Split(data, []byte("\n"))
	for i, line := range lines {
		if !bytes.Contains(line, []byte("${")) {
			continue
		}
		lines[i] = placeholder.ReplaceAllFunc(line, func(m []byte) []byte {
			name := string(m[2 : len(m)-1])
			if s, ok := lookup(name, props, envFilter, getenv); ok {
				return []byte(s)
			}
			hint := ""
			switch {
			case strings.HasPrefix(name, "ENV-") && !envFilter:
				hint = " (environment variables are substituted with --env-filter)"
			case strings.HasPrefix(name, "ENV-"):
				hint = " (the environment variable is not set)"
			case props == nil:
				hint = " (properties are read from the file given with --filter)"
			}
			warns.add(loc{file: file, line: i + 1}, ErrInvalid, "no value for ${%s}: left as it is%s", name, hint)
			return m
		})
	}
	return bytes.Join(lines, []byte("\n"))
}

func lookup(name string, props map[string]string, envFilter bool, getenv func(string) (string, bool)) (string, bool) {
	if env, ok := strings.CutPrefix(name, "ENV-"); ok && envFilter && getenv != nil {
		if s, ok := getenv(env); ok {
			return s, true
		}
	}
	if s, ok := props[name]; ok {
		return s, true
	}
	if m := listRef.FindStringSubmatch(name); m != nil {
		if s, ok := props[m[1]]; ok {
			i, err := strconv.Atoi(m[2])
			if err != nil {
				return "", false
			}
			return listElem(s, i)
		}
	}
	return "", false
}

// listElem reads element i of a list property written ["a", "b"], as
// Flux does (split on commas, spaces and one pair of quotes trimmed).
func listElem(s string, i int) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return "", false
	}
	parts := strings.Split(s[1:len(s)-1], ",")
	if i < 0 || i >= len(parts) {
		return "", false
	}
	e := strings.TrimSpace(parts[i])
	if len(e) >= 2 && (e[0] == '"' && e[len(e)-1] == '"' || e[0] == '\'' && e[len(e)-1] == '\'') {
		e = e[1 : len(e)-1]
	}
	return e, true
}

// ParseProperties reads a Java .properties file (what Flux's --filter
// takes): "key=value", "key: value" or "key value" lines, '#' and '!'
// comments, lines continued by a trailing backslash, and the escapes
// \t \n \r \f \uXXXX and \<char>.
func ParseProperties(data []byte) (map[string]string, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: properties file of %d bytes is larger than %d bytes", ErrLimit, len(data), MaxFileSize)
	}
	props := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), MaxFileSize+1)
	var logical strings.Builder
	cont := false
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if cont {
			line = strings.TrimLeft(line, " \t\f")
		} else {
			t := strings.TrimLeft(line, " \t\f")
			if t == "" || t[0] == '#' || t[0] == '!' {
				continue
			}
			line = t
		}
		// an odd number of trailing backslashes continues the line
		n := 0
		for n < len(line) && line[len(line)-1-n] == '\\' {
			n++
		}
		if n%2 == 1 {
			logical.WriteString(line[:len(line)-1])
			cont = true
			continue
		}
		logical.WriteString(line)
		cont = false
		k, v := splitProperty(logical.String())
		props[k] = v
		logical.Reset()
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read properties: %w", err)
	}
	if logical.Len() > 0 {
		k, v := splitProperty(logical.String())
		props[k] = v
	}
	return props, nil
}

func splitProperty(line string) (string, string) {
	var key strings.Builder
	i := 0
	for i < len(line) {
		c := line[i]
		if c == '\\' && i+1 < len(line) {
			r, n := unescape(line[i:])
			key.WriteString(r)
			i += n
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			break
		}
		key.WriteByte(c)
		i++
	}
	rest := strings.TrimLeft(line[i:], " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	var v strings.Builder
	for j := 0; j < len(rest); {
		if rest[j] == '\\' && j+1 < len(rest) {
			r, n := unescape(rest[j:])
			v.WriteString(r)
			j += n
			continue
		}
		v.WriteByte(rest[j])
		j++
	}
	return key.String(), v.String()
}

// unescape reads the escape at the start of s (a backslash and more); it
// returns the text and the bytes read.
func unescape(s string) (string, int) {
	switch s[1] {
	case 't':
		return "\t", 2
	case 'n':
		return "\n", 2
	case 'r':
		return "\r", 2
	case 'f':
		return "\f", 2
	case 'u':
		if len(s) >= 6 {
			if n, err := strconv.ParseUint(s[2:6], 16, 32); err == nil {
				return string(rune(n)), 6
			}
		}
	}
	_, size := utf8.DecodeRuneInString(s[1:])
	return s[1 : 1+size], 1 + size
}
