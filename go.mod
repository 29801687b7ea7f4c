module github.com/paydesk/paydesk

go 1.26.8

require (
	github.com/smartwalle/alipay/v3 v3.2.31
	golang.org/x/text v0.43.0
)

require (
	github.com/smartwalle/ncrypto v1.0.4 // indirect
	github.com/smartwalle/ngx v1.1.2 // indirect
	github.com/smartwalle/nsign v1.0.9 // indirect
)
