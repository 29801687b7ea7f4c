// Package alipay is paydesk's Alipay OpenAPI client: gateway.Platform for
// one merchant app, in public-key or certificate mode, built on
// github.com/smartwalle/alipay/v3 for request signing and response
// verification; verification of Alipay's asynchronous notifications; and
// streaming parsers of Alipay's daily trade bill (a zip of GBK CSV files,
// held to its summary file) and of its fund bill (账务明细), registered with
// gateway by channel and kind (format.go, fundbill.go).
//
// Construct a client from the merchant's files:
//
//	c, err := alipay.New(alipay.Config{
//		AppID:              "2021000000000000",
//		PrivateKeyPEM:      appPrivateKey,      // PKCS#1 or PKCS#8
//		AlipayPublicKeyPEM: alipayPublicKey,    // or the three certificates
//		GatewayURL:         sandbox.URL() + "/gateway.do",
//	})
//
// and read a bill with OpenBill (a zip as downloaded, or the detail CSV):
//
//	r, err := alipay.OpenBill("2088…_20261122.csv.zip", f)
//	for {
//		line, err := r.Next()
//		if err == io.EOF { break } // rows proven against the stated totals
//		...
//	}
//
// The legacy mapi gateway (即时到账) has its own verifier, Mapi: MD5-signed
// notifications confirmed through notify_verify. Merchant puts an app and a
// legacy partner (either may be absent) behind one gateway.Platform, whose
// notifications go to the verifier of the gateway they came from.
package alipay
