package ops

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestOrderTextAcrossChunks: text is decoded the same wherever the 32 KiB
// chunks cut it — inside a UTF-8 character, inside a GBK one — and the
// encoding is decided by the first non-ASCII bytes even when they come
// after a long ASCII stretch.
func TestOrderTextAcrossChunks(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.Repeat("a,b\n", 20000)) // 80 KB of ASCII first
	for i := 0; b.Len() < 300<<10; i++ {
		fmt.Fprintf(&b, "%d,会员月卡（年付）€𠮷%s\n", i, strings.Repeat("拿", i%7))
	}
	want := b.String()
	gbkText, err := simplifiedchinese.GB18030.NewEncoder().String(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, in, enc string
		allow         bool
	}{
		{"utf8", want, encodingUTF8, false},
		{"gbk", gbkText, encodingGBK, true},
	} {
		for _, shift := range []int{0, 1, 2, 3, 4097} {
			in := strings.Repeat("x", shift) + c.in
			size := 64 << 10
			if shift > 3 {
				size = 4096 // a buffer smaller than a chunk
			}
			tx := newOrderText(bufio.NewReaderSize(strings.NewReader(in), size), c.allow)
			got, err := io.ReadAll(tx)
			if err != nil {
				t.Fatalf("%s shift %d: %v", c.name, shift, err)
			}
			if string(got) != strings.Repeat("x", shift)+want || tx.encoding() != c.enc {
				t.Fatalf("%s shift %d: decoded differently (%d bytes, %s)", c.name, shift, len(got), tx.encoding())
			}
		}
	}
	// A bad byte deep in the file names its line.
	bad := []byte(gbkText)
	i := bytes.LastIndex(bad, []byte("\n"))
	bad = append(append(bad[:i+1:i+1], "9,\xff\xfe\n"...), "10,ok\n"...)
	lines := bytes.Count(bad[:i+1], []byte("\n"))
	_, err = io.ReadAll(newOrderText(bufio.NewReader(bytes.NewReader(bad)), true))
	var te *textError
	if !errors.As(err, &te) || te.line != lines+1 || !errors.Is(err, ErrOrderEncoding) {
		t.Fatalf("bad byte: %v (line %d); want line %d", err, te.line, lines+1)
	}
}

// TestImportReportsItsEncoding: the result and the audit record say how
// the file was read.
func TestImportReportsItsEncoding(t *testing.T) {
	eachEngine(t, func(t *testing.T, db string) {
		s := testService(t, Admin, db)
		ctx := context.Background()
		gbkCSV, _ := simplifiedchinese.GBK.NewEncoder().String("out_trade_no,channel,amount,created_at,subject\nPD0000000001,alipay,1.00,2026-11-22 10:00:00,会员\n")
		res, err := s.ImportOrders(ctx, writeFile(t, "o.csv", gbkCSV))
		if err != nil || res.Encoding != "GBK" {
			t.Fatalf("%+v %v", res, err)
		}
		o, _ := s.store.GetOrder(ctx, "PD0000000001")
		if o.Subject != "会员" {
			t.Fatalf("subject %q", o.Subject)
		}
		res, err = s.ImportOrders(ctx, writeFile(t, "o.csv", "out_trade_no,channel,amount,created_at\nPD0000000002,alipay,1.00,2026-11-22 10:00:00\n"))
		if err != nil || res.Encoding != "UTF-8" {
			t.Fatalf("%+v %v", res, err)
		}
	})
}
