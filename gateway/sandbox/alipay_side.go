package sandbox

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"time"
)

// AlipayGatewayPath is where the simulated Alipay OpenAPI gateway listens.
const AlipayGatewayPath = "/gateway.do"

// alipaySide: to be written (issue 3).
type alipaySide struct{ s *Server }

func newAlipaySide(s *Server) side { return &alipaySide{s: s} }

func (a *alipaySide) routes(mux *http.ServeMux) {}
func (a *alipaySide) notification(ev Event) (http.Header, []byte, error) {
	return nil, nil, errors.New("alipay notifications not written yet")
}
func (a *alipaySide) acknowledged(status int, body []byte) bool { return string(body) == "success" }
func (a *alipaySide) newTradeNo(r *rand.Rand, at time.Time) string {
	return at.Format("20060102") + "22001" + randDigits(r, 15)
}
func (a *alipaySide) newRefundID(r *rand.Rand, at time.Time) string { return randDigits(r, 20) }
func (a *alipaySide) newBuyerID(r *rand.Rand) string                { return "2088" + randDigits(r, 12) }
