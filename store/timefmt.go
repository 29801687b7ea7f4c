package store

import (
	"database/sql"
	"time"
)

// ms is how times are stored: Unix milliseconds, UTC by construction.
func ms(t time.Time) int64 { return t.UnixMilli() }

// msOrNull stores the zero time as NULL.
func msOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}
