package classify

import "testing"

// valueMix is a realistic mix of bound parameters: ids, names, e-mails,
// dates, amounts, statuses, Fernet tokens and the occasional SSN.
func valueMix(b *testing.B) [][]byte {
	mix := []string{"42", "1048576", "Alice", "Smith", "alice.smith@example.com", "2024-01-15",
		"129.99", "active", "Bob O'Neil", "0.00", "123-45-6789", "true",
		"550e8400-e29b-41d4-a716-446655440000", "ORD-2024-000123", "+14155552671",
		testFernet(b, "123-45-6789"), testFernet(b, "alice@example.com")}
	out := make([][]byte, len(mix))
	for i, s := range mix {
		out[i] = []byte(s)
	}
	return out
}

func BenchmarkValue(b *testing.B) {
	c := fuzzClassifier(b)
	mix := valueMix(b)
	total := 0
	for _, v := range mix {
		total += len(v)
	}
	b.SetBytes(int64(total / len(mix)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c.Value(mix[i%len(mix)])
	}
}

// scanMix is typical text with no secret: SQL statements and Django
// messages of about 150 bytes.
var scanMix = [][]byte{
	[]byte(`SELECT "auth_user"."id", "auth_user"."password", "auth_user"."email" FROM "auth_user" WHERE "auth_user"."username" = $1 LIMIT 21`),
	[]byte(`INSERT INTO orders (id, customer_id, total, status, created_at) VALUES ($1, $2, 129.99, 'pending', '2024-01-15 10:30:45.123456+00')`),
	[]byte(`"GET /api/v1/orders/?page=2&ordering=-created HTTP/1.1" 200 5123 (0.042s) request_id=7f9c2ba4e88f827d route=orders-list`),
	[]byte(`Internal Server Error: /accounts/login/ Traceback: File "/app/accounts/views.py", line 88, in post: form.is_valid() raised ValueError`),
	[]byte(`UPDATE inventory SET quantity = quantity - 1, updated_at = now() WHERE sku = 'SKU-99812' AND warehouse_id = 7 RETURNING quantity`),
}

func BenchmarkScanSecrets(b *testing.B) {
	c := fuzzClassifier(b)
	total := 0
	for _, t := range scanMix {
		total += len(t)
	}
	n := 0
	fn := func(string, []byte) { n++ }
	b.SetBytes(int64(total / len(scanMix)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c.ScanSecrets(scanMix[i%len(scanMix)], fn)
	}
	if n != 0 {
		b.Fatalf("benign text reported %d secrets", n)
	}
}
