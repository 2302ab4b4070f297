// Command oracle is a test helper of redline_yaml's differential test (not
// part of redline): it reads YAML files the way kubectl does — documents
// split on `---` lines like k8s.io/apimachinery's YAMLReader, each one
// converted with sigs.k8s.io/yaml.YAMLToJSON — and prints one JSON line per
// file: {"path": P, "docs": [{"json": VALUE} | {"error": TEXT}, ...]}.
// A read error of the whole file is {"path": P, "error": TEXT}.
//
// Usage: oracle FILE... ; or oracle - (paths on standard input, one a line).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/yaml"
)

type doc struct {
	JSON  json.RawMessage `json:"json,omitempty"`
	Error string          `json:"error,omitempty"`
}

type file struct {
	Path  string `json:"path"`
	Docs  []doc  `json:"docs"`
	Error string `json:"error,omitempty"`
}

// split cuts a stream into documents as apimachinery's YAMLReader does: a
// line starting with `---` ends the document; anything but spaces or a
// comment after the marker is an error, and ends the stream there.
func split(data []byte) (chunks [][]byte, err error) {
	var buf bytes.Buffer
	lines := bytes.SplitAfter(data, []byte("\n"))
	for _, line := range lines {
		if len(line) == 0 {
			continue
		}
		if !bytes.HasSuffix(line, []byte("\n")) {
			line = append(append([]byte{}, line...), '\n')
		}
		if bytes.HasPrefix(line, []byte("---")) {
			trimmed := strings.TrimSpace(string(line[3:]))
			if len(trimmed) > 0 && trimmed[0] != '#' {
				if buf.Len() != 0 {
					chunks = append(chunks, append([]byte{}, buf.Bytes()...))
				}
				return chunks, fmt.Errorf("invalid Yaml document separator: %s", trimmed)
			}
			if buf.Len() != 0 {
				chunks = append(chunks, append([]byte{}, buf.Bytes()...))
				buf.Reset()
			}
			continue
		}
		buf.Write(line)
	}
	if buf.Len() != 0 {
		chunks = append(chunks, append([]byte{}, buf.Bytes()...))
	}
	return chunks, nil
}

func one(path string) file {
	out := file{Path: path, Docs: []doc{}}
	data, err := os.ReadFile(path)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	chunks, splitErr := split(data)
	for _, c := range chunks {
		j, err := yaml.YAMLToJSON(c)
		if err != nil {
			out.Docs = append(out.Docs, doc{Error: err.Error()})
			continue
		}
		out.Docs = append(out.Docs, doc{JSON: j})
	}
	if splitErr != nil {
		out.Docs = append(out.Docs, doc{Error: splitErr.Error()})
	}
	return out
}

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	emit := func(p string) {
		if err := enc.Encode(one(p)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if len(os.Args) == 2 && os.Args[1] == "-" {
		s := bufio.NewScanner(os.Stdin)
		s.Buffer(make([]byte, 1<<20), 1<<20)
		for s.Scan() {
			if p := s.Text(); p != "" {
				emit(p)
			}
		}
		return
	}
	for _, p := range os.Args[1:] {
		emit(p)
	}
}
