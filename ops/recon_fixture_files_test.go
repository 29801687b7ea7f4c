package ops_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"flag"
	"io"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// The bills under testdata/recon are written by hand as UTF-8 text (the
// .csv and .txt files there, see its README). The files a platform hands out
// in another form — the Alipay zip with GBK names and contents, the gzipped
// WeChat bill — and the broken variants are made from that text by
// `go test ./ops -run TestReconFixtureFiles -update` and committed, so the
// text stays the one place a row is changed.
var update = flag.Bool("update", false, "rewrite the generated files in testdata/recon from their text")

// alipayAccount is the account the hand-made Alipay bills are for; it names
// the entries of the zip as Alipay names them.
const alipayAccount = "20880001000000010156"

// derivedFile is one generated file: its bytes, and for a zip or gzip what
// it must hold when read back (their own bytes carry timestamps and depend
// on the compressor's version, so those are compared by content).
type derivedFile struct {
	data    []byte
	entries []zipEntry // a zip: its entries in order
	gunzip  []byte     // a gzip: the uncompressed bytes
}

type zipEntry struct {
	name []byte // raw, as stored: GBK without the UTF-8 flag
	data []byte
}

func fixtureText(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testdataPath("recon", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gbk(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := simplifiedchinese.GBK.NewEncoder().Bytes(b)
	if err != nil {
		t.Fatalf("not GBK-encodable: %v", err)
	}
	return out
}

// alipayZip is the bill as Alipay's download serves it: the detail and the
// 汇总 summary, both GBK, under GBK names without the UTF-8 flag.
func alipayZip(t *testing.T, day string) derivedFile {
	t.Helper()
	entries := []zipEntry{
		{gbk(t, []byte(alipayAccount+"_"+day+"_业务明细.csv")), gbk(t, fixtureText(t, "alipay_"+day+".csv"))},
		{gbk(t, []byte(alipayAccount+"_"+day+"_业务明细(汇总).csv")), gbk(t, fixtureText(t, "alipay_"+day+"_summary.csv"))},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: string(e.name), NonUTF8: true, Method: zip.Deflate,
			Modified: time.Date(2026, 11, 23, 9, 12, 45, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return derivedFile{data: buf.Bytes(), entries: entries}
}

func gzipped(t *testing.T, name string) derivedFile {
	t.Helper()
	text := fixtureText(t, name)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Name, zw.ModTime = name, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if _, err := zw.Write(text); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return derivedFile{data: buf.Bytes(), gunzip: text}
}

// replaceOnce is strings.Replace that fails the test when old is not there
// exactly once, so an edit of the text cannot silently stop a broken
// variant from being broken.
func replaceOnce(t *testing.T, s []byte, old, new string) []byte {
	t.Helper()
	if n := bytes.Count(s, []byte(old)); n != 1 {
		t.Fatalf("%q occurs %d times in the fixture text, want once", old, n)
	}
	return bytes.Replace(s, []byte(old), []byte(new), 1)
}

// derivedFiles are the generated files of testdata/recon by name.
func derivedFiles(t *testing.T) map[string]derivedFile {
	alipayDay := fixtureText(t, "alipay_20261122.csv")
	wechatDay := fixtureText(t, "wechat_all_20261122.txt")
	var utf16le []byte
	for _, u := range utf16.Encode([]rune("\ufeff" + string(alipayDay))) {
		utf16le = append(utf16le, byte(u), byte(u>>8))
	}
	return map[string]derivedFile{
		"alipay_20261122.zip":        alipayZip(t, "20261122"),
		"alipay_20261123.zip":        alipayZip(t, "20261123"),
		"wechat_all_20261122.txt.gz": gzipped(t, "wechat_all_20261122.txt"),
		"wechat_all_20261123.txt.gz": gzipped(t, "wechat_all_20261123.txt"),
		// The day's detail file as a person extracts it from the zip (GBK),
		// with 634.10 mistyped as 643.10 in its payment total.
		"alipay_totals_disagree.csv": {data: gbk(t, replaceOnce(t, alipayDay, "商家实收共634.10元", "商家实收共643.10元"))},
		// The day's ALL bill whose summary states one row too many.
		"wechat_totals_disagree.txt": {data: replaceOnce(t, wechatDay, "\r\n`18,`704.40,", "\r\n`19,`704.40,")},
		// The day's bills saved in an encoding their platform never uses:
		// the Alipay detail as UTF-16 (Excel's "Unicode text"), the WeChat
		// bill as GBK.
		"alipay_utf16.csv":   {data: utf16le},
		"wechat_all_gbk.txt": {data: gbk(t, wechatDay)},
	}
}

// TestReconFixtureFilesAreCurrent writes the generated files with -update,
// and otherwise checks that the committed ones still say what their text
// says.
func TestReconFixtureFilesAreCurrent(t *testing.T) {
	for name, want := range derivedFiles(t) {
		p := testdataPath("recon", name)
		if *update {
			if err := os.WriteFile(p, want.data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run go test ./ops -run TestReconFixtureFiles -update)", err)
		}
		switch {
		case want.entries != nil:
			zr, err := zip.NewReader(bytes.NewReader(got), int64(len(got)))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(zr.File) != len(want.entries) {
				t.Fatalf("%s holds %d entries, want %d; run with -update", name, len(zr.File), len(want.entries))
			}
			for i, f := range zr.File {
				e := want.entries[i]
				if f.Name != string(e.name) || f.NonUTF8 != true || f.Method != zip.Deflate {
					t.Errorf("%s entry %d: name %q (non-UTF-8 %v, method %d), want %q deflated with GBK name; run with -update", name, i, f.Name, f.NonUTF8, f.Method, e.name)
					continue
				}
				if data := readAll(t, f.Open); !bytes.Equal(data, e.data) {
					t.Errorf("%s entry %d differs from its text; run with -update", name, i)
				}
			}
		case want.gunzip != nil:
			zr, err := gzip.NewReader(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if data := readAll(t, func() (io.ReadCloser, error) { return zr, nil }); !bytes.Equal(data, want.gunzip) {
				t.Errorf("%s differs from its text; run with -update", name)
			}
		default:
			if !bytes.Equal(got, want.data) {
				t.Errorf("%s differs from its text; run with -update", name)
			}
		}
	}
	// The hand-written WeChat ALL bills keep WeChat's CRLF line endings (a
	// checkout that converted them would no longer test that).
	for _, name := range []string{"wechat_all_20261122.txt", "wechat_all_20261123.txt"} {
		text := string(fixtureText(t, name))
		if strings.Count(text, "\n") != strings.Count(text, "\r\n") {
			t.Errorf("%s: line endings are not all CRLF", name)
		}
	}
}

func readAll(t *testing.T, open func() (io.ReadCloser, error)) []byte {
	t.Helper()
	rc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
