package gateway

// BodyReplier is implemented by a Platform that receives more than one
// notification protocol on one URL and must answer each in its own: WeChat
// Pay posts APIv3 JSON and v2 XML to the same notify_url, and a v2 sender
// reads only an XML return_code. NotifyReplyTo answers err (nil
// acknowledges) in the protocol body is written in; the endpoint prefers it
// to NotifyReply when the platform has it.
type BodyReplier interface {
	NotifyReplyTo(body []byte, err error) Reply
}
