package testkit

import (
	"archive/zip"
	"io"
	"strings"
	"testing"
)

// XLSXText returns every part of an .xlsx workbook (a zip of XML) as one
// text, to search for what must never be written in it.
func XLSXText(t testing.TB, path string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var b strings.Builder
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(&b, rc); err != nil {
			t.Fatalf("%s: %s: %v", path, f.Name, err)
		}
		rc.Close()
	}
	return b.String()
}
