// Command bombgen makes the compressed-bill bombs of bench/bomb-bench.sh: an
// Alipay bill zip and a WeChat Pay gzip bill, each a real header and one
// real row repeated until the bill inflates to the size asked (400 MB and
// 1.2 GB by default), compressed as hard as deflate goes, so a file of a few
// megabytes at most stands for a bill of a billion bytes. The rows are the
// sandbox's writers' own, for the benchmark's day and merchant.
package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
)

// day and account are recongen's: the bombs are bills of the benchmark's
// day and merchant, refused for what they are, not for whose they are.
var day = time.Date(2026, 11, 22, 0, 0, 0, 0, gateway.Shanghai)

const account = "2088101122136241"

func main() {
	dir := flag.String("dir", "bench/out/bombs", "output folder")
	sizes := flag.String("sizes", "400,1200", "inflated sizes in MB")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	alipayHead, alipayRow := alipayParts()
	wechatHead, wechatRow := wechatParts()
	for _, mb := range strings.Split(*sizes, ",") {
		var n int64
		if _, err := fmt.Sscan(mb, &n); err != nil {
			log.Fatalf("-sizes %q: %v", *sizes, err)
		}
		size := n << 20
		name := filepath.Join(*dir, fmt.Sprintf("alipay-%sm.zip", mb))
		if err := writeZip(name, alipayHead, alipayRow, size); err != nil {
			log.Fatal(err)
		}
		report(name, size)
		name = filepath.Join(*dir, fmt.Sprintf("wechat-%sm.txt.gz", mb))
		if err := writeGzip(name, wechatHead, wechatRow, size); err != nil {
			log.Fatal(err)
		}
		report(name, size)
	}
}

func report(name string, size int64) {
	st, err := os.Stat(name)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("%s: %.2f MB inflating to %d MB", name, float64(st.Size())/(1<<20), size>>20)
}

// alipayParts is the preamble and header of a GBK detail file, and one of
// its payment rows, as the sandbox writes them.
func alipayParts() (head, row []byte) {
	var buf bytes.Buffer
	w := sandbox.NewAlipayBillCSV(&buf, account, day)
	if err := w.Add(sandbox.AlipayBillRow{TradeNo: "2026112222001000000000000001", OutTradeNo: "PD20261122103000123456",
		Subject: "会员月卡", CreatedAt: day.Add(10 * time.Hour), FinishedAt: day.Add(10*time.Hour + 20*time.Second),
		Buyer: "138****0000", Amount: 3580, Fee: sandbox.AlipayFee(3580)}); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	lines := bytes.SplitAfter(buf.Bytes(), []byte("\n"))
	header, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(sandbox.AlipayBillHeader))
	if err != nil {
		log.Fatal(err)
	}
	for i, l := range lines {
		if bytes.HasPrefix(l, header) {
			return bytes.Join(lines[:i+1], nil), lines[i+1]
		}
	}
	log.Fatal("no header in the sandbox's Alipay bill")
	return nil, nil
}

// wechatParts is the BOM and header of an ALL bill, and one payment row.
func wechatParts() (head, row []byte) {
	var buf bytes.Buffer
	w, err := sandbox.NewWeChatBillWriter(&buf, "ALL")
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Payment(&sandbox.WeChatBillRow{Time: day.Add(10 * time.Hour), AppID: "wxd678efh567hg6787", MchID: "1900000109",
		TradeNo: "4200000101202611220000000201", OutTradeNo: "PD20261122103000123456", OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
		Subject: "会员月卡", Amount: 3580, Fee: sandbox.WeChatFee(3580)}); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	lines := bytes.SplitAfter(buf.Bytes(), []byte("\r\n"))
	return lines[0], lines[1]
}

// repeat writes head, then row until size bytes in all.
func repeat(w io.Writer, head, row []byte, size int64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.Write(head); err != nil {
		return err
	}
	block := bytes.Repeat(row, (1<<20)/len(row))
	for left := size - int64(len(head)); left > 0; left -= int64(len(block)) {
		b := block
		if int64(len(b)) > left {
			b = b[:left/int64(len(row))*int64(len(row))]
			if len(b) == 0 {
				break
			}
		}
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func writeZip(name string, head, row []byte, size int64) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})
	entry, err := simplifiedchinese.GBK.NewEncoder().String(account + "_" + day.Format("20060102") + "_业务明细.csv")
	if err != nil {
		return err
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: entry, NonUTF8: true, Method: zip.Deflate, Modified: day})
	if err != nil {
		return err
	}
	if err := repeat(w, head, row, size); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func writeGzip(name string, head, row []byte, size int64) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	defer f.Close()
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return err
	}
	if err := repeat(zw, head, row, size); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}
