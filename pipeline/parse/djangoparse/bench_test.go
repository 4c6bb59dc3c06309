package djangoparse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/source"
)

// benchText is a realistic DEBUG-enabled verbose log: mostly SQL lines,
// some requests, one 500 with a traceback, runserver-free.
func benchText() [][]byte {
	var b bytes.Buffer
	for i := 0; i < 200; i++ {
		ts := fmt.Sprintf("2025-06-11 16:%02d:%02d,%03d", i/60%60, i%60, i%1000)
		fmt.Fprintf(&b, `DEBUG %s utils 4121 140231946327616 (0.004) SELECT "clinic_patient"."id", "clinic_patient"."full_name" FROM "clinic_patient" WHERE "clinic_patient"."last_name" = 'Okafor%d' LIMIT 21; args=('Okafor%d',); alias=default`+"\n", ts, i, i)
		fmt.Fprintf(&b, `DEBUG %s utils 4121 140231946327616 (0.011) INSERT INTO "shop_order" ("customer_id", "total") VALUES (%%s, %%s); args=[(17, Decimal('99.90')), (18, Decimal('12.00'))]; alias=default`+"\n", ts)
		switch i % 10 {
		case 0:
			fmt.Fprintf(&b, "ERROR %s log 4121 140231946327616 Internal Server Error: /api/reports/%d/\nTraceback (most recent call last):\n  File \"/srv/app/reports/views.py\", line 41, in monthly\n    total = compute_totals(month)\nZeroDivisionError: division by zero\n", ts, i)
		case 3:
			fmt.Fprintf(&b, "WARNING %s log 4121 140231946327616 Forbidden (CSRF token missing.): /accounts/login/\n", ts)
		default:
			fmt.Fprintf(&b, "WARNING %s log 4121 140231946327616 Not Found: /api/patients/%d/\n", ts, i)
		}
	}
	return bytes.Split(bytes.TrimSuffix(b.Bytes(), []byte("\n")), []byte("\n"))
}

// benchJSON is the same mix as python-json-logger records.
func benchJSON() [][]byte {
	var lines [][]byte
	add := func(v map[string]any) {
		b, _ := json.Marshal(v)
		lines = append(lines, b)
	}
	for i := 0; i < 200; i++ {
		ts := fmt.Sprintf("2025-06-11 16:%02d:%02d,%03d", i/60%60, i%60, i%1000)
		sql := fmt.Sprintf(`SELECT "clinic_patient"."id" FROM "clinic_patient" WHERE "clinic_patient"."last_name" = 'Okafor%d' LIMIT 21`, i)
		add(map[string]any{"asctime": ts, "levelname": "DEBUG", "name": "django.db.backends", "message": "(0.004) " + sql + "; args=('x',); alias=default",
			"duration": 0.0041, "sql": sql, "params": []any{fmt.Sprintf("Okafor%d", i)}, "alias": "default"})
		add(map[string]any{"asctime": ts, "levelname": "WARNING", "name": "django.security.csrf", "message": "Forbidden (CSRF token missing.): /accounts/login/",
			"status_code": 403, "request": "<WSGIRequest: POST '/accounts/login/'>"})
		add(map[string]any{"asctime": ts, "levelname": "WARNING", "name": "django.request", "message": fmt.Sprintf("Not Found: /api/patients/%d/", i),
			"status_code": 404, "request": fmt.Sprintf("<WSGIRequest: GET '/api/patients/%d/'>", i)})
	}
	return lines
}

func runBench(b *testing.B, lines [][]byte, mk func() parse.Decoder) {
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	d := mk()
	out := make([]event.Event, 0, 16)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, l := range lines {
			out, _ = d.Feed(source.Line{Text: l, File: "bench.log", Offset: int64(j)}, out[:0])
		}
		out, _ = d.Flush(out[:0])
	}
}

func BenchmarkTextDecoder(b *testing.B) {
	runBench(b, benchText(), func() parse.Decoder {
		d, err := NewTextDecoder(testNormalizer(), Options{Format: "verbose"})
		if err != nil {
			b.Fatal(err)
		}
		return d
	})
}

func BenchmarkTextDecoderAuto(b *testing.B) {
	runBench(b, benchText(), func() parse.Decoder {
		d, _ := NewTextDecoder(testNormalizer(), Options{FallbackTime: fixed})
		return d
	})
}

func BenchmarkJSONDecoder(b *testing.B) {
	runBench(b, benchJSON(), func() parse.Decoder { return NewJSONDecoder(testNormalizer(), Options{}) })
}
