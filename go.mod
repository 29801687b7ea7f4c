module github.com/paydesk/paydesk

go 1.26.8
