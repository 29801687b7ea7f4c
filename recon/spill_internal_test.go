package recon

import (
	"reflect"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// Every field of a bill line survives the spill, a field added to
// gateway.BillLine later included: the test sets each field by reflection,
// so a new one that encodeLine does not carry fails it.
func TestSpillKeepsEveryLineField(t *testing.T) {
	var l gateway.BillLine
	v := reflect.ValueOf(&l).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch {
		case f.Type() == reflect.TypeOf(time.Time{}):
			f.Set(reflect.ValueOf(time.Date(2024, 5, 1, 23, 59, 58, 123456789, gateway.Shanghai)))
		case f.Kind() == reflect.String:
			f.SetString(v.Type().Field(i).Name + " 值")
		case f.CanInt():
			f.SetInt(int64(-1000*i - 7))
		default:
			t.Fatalf("BillLine.%s is a %s: teach encodeLine and this test about it", v.Type().Field(i).Name, f.Type())
		}
	}
	m := &Matcher{zone: gateway.Shanghai}
	b := encodeLine(nil, &l)
	var got gateway.BillLine
	rest, err := m.decodeLine(append(b, 0xFF), &got)
	if err != nil || len(rest) != 1 {
		t.Fatalf("decode: %v, %d bytes left", err, len(rest))
	}
	if !reflect.DeepEqual(got, l) {
		t.Fatalf("spilled line came back as\n%+v\nwant\n%+v", got, l)
	}
	for n := 0; n < len(b); n++ {
		if _, err := m.decodeLine(b[:n], &got); err == nil {
			t.Fatalf("a line cut to %d of %d bytes decoded", n, len(b))
		}
	}
}
