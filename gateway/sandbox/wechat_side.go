package sandbox

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"time"
)

// wechatSide: to be written (issue 3).
type wechatSide struct{ s *Server }

func newWeChatSide(s *Server) side { return &wechatSide{s: s} }

func (a *wechatSide) routes(mux *http.ServeMux) {}
func (a *wechatSide) notification(ev Event) (http.Header, []byte, error) {
	return nil, nil, errors.New("wechat notifications not written yet")
}
func (a *wechatSide) acknowledged(status int, body []byte) bool { return status >= 200 && status < 300 }
func (a *wechatSide) newTradeNo(r *rand.Rand, at time.Time) string {
	return at.Format("20060102") + "22001" + randDigits(r, 15)
}
func (a *wechatSide) newRefundID(r *rand.Rand, at time.Time) string { return randDigits(r, 20) }
func (a *wechatSide) newBuyerID(r *rand.Rand) string                { return "o" + randDigits(r, 27) }
