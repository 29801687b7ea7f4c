package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// The senders of fire. Both post every captured notification, as it was
// signed, over HTTP/1.1 keep-alive connections on loopback, with conc
// senders at once, and time each from its first byte written to its reply
// read. They differ in what the load generator itself costs: it runs on the
// same two cores as the endpoint, so every microsecond it spends is one the
// endpoint does not get.
//
//   - sendNetHTTP builds each request with net/http's client (a Request, a
//     header copy, the transport's connection pool and goroutines).
//   - sendRaw serializes every request before the clock starts and writes
//     those bytes on a connection of the sender's own; it reads each reply
//     with net/http's response parser and checks it as the other does. The
//     whole sender took 0.92–1.04 s of CPU for 12,000 notifications with
//     it, 1.54–1.71 s with the client (bench/README.md).

// sendFunc posts every capture and returns each one's latency, how many
// were refused or failed, and the time the whole took.
type sendFunc func(caps []capture, url string, conc int) (lat []time.Duration, failed int64, elapsed time.Duration, err error)

// accepted says whether a reply acknowledges the notification in its
// platform's protocol.
func accepted(c capture, status int, body []byte) bool {
	return status < 300 && (c.Channel != gateway.Alipay || string(body) == "success")
}

func sendNetHTTP(caps []capture, url string, conc int) ([]time.Duration, int64, time.Duration, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}, Timeout: 60 * time.Second}
	lat := make([]time.Duration, len(caps))
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(caps) {
					return
				}
				c := caps[i]
				req, _ := http.NewRequest(http.MethodPost, url+"/notify/"+string(c.Channel), bytes.NewReader(c.Body))
				req.Header = c.Header.Clone()
				t := time.Now()
				resp, err := client.Do(req)
				lat[i] = time.Since(t)
				if err != nil {
					failed.Add(1)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !accepted(c, resp.StatusCode, b) {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return lat, failed.Load(), time.Since(start), nil
}

// wire is a request as bytes: the request line, Host, the captured
// headers (sorted, Content-Length from the body), the body.
func wire(c capture, host string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST /notify/%s HTTP/1.1\r\nHost: %s\r\n", c.Channel, host)
	keys := make([]string, 0, len(c.Header))
	for k := range c.Header {
		if http.CanonicalHeaderKey(k) != "Content-Length" && http.CanonicalHeaderKey(k) != "Host" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range c.Header[k] {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(c.Body)) + "\r\n\r\n")
	b.Write(c.Body)
	return b.Bytes()
}

func sendRaw(caps []capture, url string, conc int) ([]time.Duration, int64, time.Duration, error) {
	u, err := neturl.Parse(url)
	if err != nil {
		return nil, 0, 0, err
	}
	reqs := make([][]byte, len(caps))
	for i, c := range caps {
		reqs[i] = wire(c, u.Host)
	}
	conns := make([]net.Conn, conc)
	for i := range conns {
		if conns[i], err = net.Dial("tcp", u.Host); err != nil {
			return nil, 0, 0, err
		}
		defer conns[i].Close()
	}
	lat := make([]time.Duration, len(caps))
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := bufio.NewReaderSize(conn, 4096)
			var body bytes.Buffer
			for {
				i := int(next.Add(1) - 1)
				if i >= len(caps) {
					return
				}
				t := time.Now()
				_ = conn.SetDeadline(t.Add(60 * time.Second))
				if _, err := conn.Write(reqs[i]); err != nil {
					// A connection the server closed cannot carry the
					// rest: count this one and those left to it.
					lat[i] = time.Since(t)
					failed.Add(1)
					return
				}
				resp, err := http.ReadResponse(r, nil)
				if err == nil {
					body.Reset()
					_, err = body.ReadFrom(resp.Body)
					resp.Body.Close()
				}
				lat[i] = time.Since(t)
				if err != nil {
					failed.Add(1)
					return
				}
				if !accepted(caps[i], resp.StatusCode, body.Bytes()) {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return lat, failed.Load(), time.Since(start), nil
}
