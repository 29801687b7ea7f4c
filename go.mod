module github.com/paydesk/paydesk

go 1.26.8

require github.com/wechatpay-apiv3/wechatpay-go v0.2.21
