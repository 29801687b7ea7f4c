package testkit

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// SwapWeChatBillDownload is an http.RoundTripper that hands back, for every
// WeChat Pay bill download, another valid gzip bill: the text with the
// first occurrence of old replaced by new. Only the SHA1 of the signed
// tradebill answer can tell.
type SwapWeChatBillDownload struct{ Old, New string }

func (s SwapWeChatBillDownload) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, "/v3/billdownload/") {
		return resp, err
	}
	defer resp.Body.Close()
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		return nil, err
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	text = bytes.Replace(text, []byte(s.Old), []byte(s.New), 1)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(text)
	zw.Close()
	resp.Body = io.NopCloser(&out)
	resp.Header.Set("Content-Length", strconv.Itoa(out.Len()))
	resp.ContentLength = int64(out.Len())
	return resp, nil
}
