package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// The control API lets a standalone sandbox (`paydesk sandbox`) be driven
// from scripts: create and pay trades, refund from the "web console", inject
// faults, add movements to the accounts' fund bills, and see deliveries. It is not part of either platform's protocol.
func (s *Server) controlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /sandbox/trades", s.handleCreateTrade)
	mux.HandleFunc("POST /sandbox/refunds", s.handleConsoleRefund)
	mux.HandleFunc("POST /sandbox/faults", s.handleSetFault)
	mux.HandleFunc("DELETE /sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /sandbox/funds", s.handleAddFundMovement)
	mux.HandleFunc("GET /sandbox/deliveries", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Deliveries())
	})
}

type createTradeRequest struct {
	Channel    gateway.Channel `json:"channel"`
	OutTradeNo string          `json:"out_trade_no"`
	Amount     gateway.Money   `json:"amount"`
	Subject    string          `json:"subject"`
	NotifyURL  string          `json:"notify_url"`
	Pay        bool            `json:"pay"`     // pay it right away
	PaidAt     time.Time       `json:"paid_at"` // default now
}

func (s *Server) handleCreateTrade(w http.ResponseWriter, r *http.Request) {
	var req createTradeRequest
	if !readJSON(w, r, &req) {
		return
	}
	t, err := s.CreateTrade(TradeSpec{Channel: req.Channel, OutTradeNo: req.OutTradeNo, Amount: req.Amount, Subject: req.Subject, NotifyURL: req.NotifyURL})
	if err == nil && req.Pay {
		t, err = s.Pay(req.Channel, req.OutTradeNo, req.PaidAt)
	}
	if err != nil {
		writeJSON(w, controlStatus(err), map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, t)
}

type consoleRefundRequest struct {
	Channel    gateway.Channel `json:"channel"`
	OutTradeNo string          `json:"out_trade_no"`
	Amount     gateway.Money   `json:"amount"`
	Reason     string          `json:"reason"`
}

func (s *Server) handleConsoleRefund(w http.ResponseWriter, r *http.Request) {
	var req consoleRefundRequest
	if !readJSON(w, r, &req) {
		return
	}
	ref, err := s.ConsoleRefund(RefundSpec{Channel: req.Channel, OutTradeNo: req.OutTradeNo, Amount: req.Amount, Reason: req.Reason})
	if err != nil {
		writeJSON(w, controlStatus(err), map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, ref)
}

type setFaultRequest struct {
	Channel    gateway.Channel `json:"channel"`
	OutTradeNo string          `json:"out_trade_no"` // empty: the whole channel
	Fault      Fault           `json:"fault"`
}

func (s *Server) handleSetFault(w http.ResponseWriter, r *http.Request) {
	var req setFaultRequest
	if !readJSON(w, r, &req) {
		return
	}
	if _, ok := s.sides[req.Channel]; !ok {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("unknown channel %q", req.Channel)})
		return
	}
	s.SetFault(req.Channel, req.OutTradeNo, req.Fault)
	w.WriteHeader(http.StatusNoContent)
}

type addFundMovementRequest struct {
	Channel  gateway.Channel `json:"channel"`
	Movement FundMovement    `json:"movement"`
}

// handleAddFundMovement adds a movement of the account (a withdrawal, a
// deduction, money in) to the channel's fund bills.
func (s *Server) handleAddFundMovement(w http.ResponseWriter, r *http.Request) {
	var req addFundMovementRequest
	if !readJSON(w, r, &req) {
		return
	}
	if err := s.AddFundMovement(req.Channel, req.Movement); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func controlStatus(err error) int {
	switch {
	case errors.Is(err, ErrNoSuchTrade):
		return http.StatusNotFound
	case errors.Is(err, ErrTradeExists), errors.Is(err, ErrTradeNotPayable):
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad request body: " + err.Error()})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
