package alipay_test

import (
	"fmt"
	"io"
	"os"

	"github.com/paydesk/paydesk/gateway/alipay"
)

// Reading a bill as downloaded from Alipay (or the detail CSV alone): rows
// stream from Next, and io.EOF means the rows add up to the bill's totals
// and, in a zip, to its summary file's (which states the fees).
func ExampleOpenBill() {
	f, err := os.Open("../../testdata/alipay/bill_20261122.zip")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	bill, err := alipay.OpenBill("bill_20261122.zip", f)
	if err != nil {
		fmt.Println(err) // a *gateway.BillError naming file and line
		return
	}
	for {
		l, err := bill.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(l.Line, l.Kind, l.OutTradeNo, l.OutRequestNo, l.Amount, l.Net, l.Fee, l.Time.Format("01-02 15:04"))
	}
	fmt.Printf("%+v\n", bill.Stated())
	// Output:
	// 6 PAYMENT PDK9F2A7C1  35.80 35.80 0.21 11-22 09:58
	// 7 PAYMENT PDKB81X3Z2  88.80 88.80 0.53 11-22 13:01
	// 8 REFUND PDKB81X3Z2 RQ20261122A 30.00 -30.00 -0.18 11-22 18:30
	// 9 REFUND PDKOLD0077 RQ20261122B 28.80 -28.80 -0.17 11-22 20:15
	// 10 PAYMENT PDKLATE003  6.70 6.70 0.04 11-22 23:59
	// {Payments:3 PaymentAmount:0.00 Refunds:2 RefundAmount:0.00 Fees:0.43 Net:72.50}
}

// Constructing a client from the files a merchant downloads: public-key
// mode, or certificate mode with the three certificates instead of the
// Alipay public key. (Not run: it needs the files.)
func ExampleNew() {
	read := func(name string) []byte {
		b, err := os.ReadFile(name)
		if err != nil {
			panic(err)
		}
		return b
	}
	c, err := alipay.New(alipay.Config{
		AppID:              "2021000100000001",
		PrivateKeyPEM:      read("keys/alipay_app_private.pem"),
		AlipayPublicKeyPEM: read("keys/alipay_public.pem"),
		// Certificate mode instead:
		// AppCertPEM:        read("keys/appCertPublicKey_2021000100000001.crt"),
		// AlipayCertPEM:     read("keys/alipayCertPublicKey_RSA2.crt"),
		// AlipayRootCertPEM: read("keys/alipayRootCert.crt"),
		GatewayURL: "http://127.0.0.1:8090/gateway.do", // the sandbox; default production
	})
	if err != nil {
		panic(err)
	}
	_ = c // c.QueryTrade, c.Refund, c.QueryRefund, c.DownloadBill, c.VerifyNotification
}
