package crdbparse

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/source"
)

// benchPayloads returns n structured payloads in the mix of a busy audited
// cluster: 60% query_execute / sensitive_table_access, 20% sampled_query
// with ~40 statistics fields, 15% SESSIONS, 5% PRIVILEGES.
func benchPayloads(n int) (payloads []string, chans []int, tags []string) {
	ts := int64(1749650000000000000)
	for i := 0; i < n; i++ {
		ts += 1_234_567
		id := 1000 + i%997
		user := fmt.Sprintf("‹app_%d›", i%7)
		var p string
		var ch int
		switch r := i % 20; {
		case r < 6:
			ch = 9
			p = fmt.Sprintf(`{"Timestamp":%d,"EventType":"query_execute","Statement":"SELECT o.id, o.total, o.status, c.email, c.full_name FROM \"\".\"\".orders AS o JOIN \"\".\"\".customers AS c ON c.id = o.customer_id WHERE (o.customer_id = ‹%d›) AND (o.created_at > ‹'2025-06-01'›) ORDER BY o.created_at DESC LIMIT ‹50›","Tag":"SELECT","User":"%s","ApplicationName":"billing","PlaceholderValues":["‹%d›","‹'a%x'›"],"ExecMode":"exec","NumRows":%d,"Age":%d.%03d,"TxnCounter":%d,"StmtPosInTxn":1}`,
				ts, id, user, id, i, i%50, i%40, i%1000, i)
		case r < 12:
			ch = 8
			p = fmt.Sprintf(`{"Timestamp":%d,"EventType":"sensitive_table_access","Statement":"SELECT id, full_name, ssn, date_of_birth, address FROM \"\".\"\".patients WHERE (last_name = ‹'Name%d'›) AND (clinic_id = ‹%d›) LIMIT ‹21›","Tag":"SELECT","User":"%s","DescriptorID":112,"ApplicationName":"billing","ExecMode":"exec","NumRows":%d,"Age":%d.%03d,"TxnCounter":%d,"StmtPosInTxn":1,"TableName":"‹clinic.public.patients›","AccessMode":"r"}`,
				ts, i, id, user, i%9, i%30, i%1000, i)
		case r < 16:
			ch = 12
			p = fmt.Sprintf(`{"Timestamp":%d,"EventType":"sampled_query","Statement":"SELECT id, email FROM \"\".\"\".customers WHERE id = ‹%d›","Tag":"SELECT","User":"%s","ApplicationName":"django","ExecMode":"exec","NumRows":1,"Age":%d.5,"TxnCounter":%d,"StmtPosInTxn":1,"SkippedQueries":%d,"CostEstimate":12.34,"Distribution":"local","PlanGist":"AgHQAQIAAwIAAAcK","SessionID":"18527c52aa0f611000000000000%05d","Database":"shop","StatementID":"18527c6b3d0e22a400000000000%05d","TransactionID":"6f2c0a1e-58b1-4a7e-9d31-2c9e0b7f4411","StatementFingerprintID":%d,"MaxFullScanRowsEstimate":0,"TotalScanRowsEstimate":1,"OutputRowsEstimate":1,"StatsAvailable":true,"BytesRead":%d,"RowsRead":1,"RowsWritten":0,"KVBytesRead":%d,"KVPairsRead":1,"KVRowsRead":1,"NetworkBytesSent":0,"MaxMemUsage":10240,"MaxDiskUsage":0,"NetworkMessages":0,"ScanCount":1,"InnerJoinCount":0,"ServiceLatencyNanos":%d,"RunLatencyNanos":%d,"PlanLatencyNanos":120000,"ParseLatencyNanos":30000,"IdleLatencyNanos":0,"OverheadLatencyNanos":9000,"ContentionNanos":0,"CpuTimeNanos":400000,"KvTimeNanos":300000,"MvccStepCount":3,"MvccSeekCount":1}`,
				ts, id, user, i%9, i%100, i%5, i%99999, i%99999, uint64(17293822569102704640)+uint64(i), 100+i, 100+i, 1000000+i, 800000+i)
		case r < 19:
			ch = 4
			p = fmt.Sprintf(`{"Timestamp":%d,"EventType":"client_authentication_ok","InstanceID":2,"Network":"tcp","RemoteAddress":"‹10.20.%d.%d:%d›","SessionID":"18527c1f0a9b3e4000000000%08d","Transport":"hostssl","User":"%s","SystemIdentity":"%s","Method":"cert-password"}`,
				ts, i%7, i%250, 40000+i%20000, i, user, user)
		default:
			ch = 7
			p = fmt.Sprintf(`{"Timestamp":%d,"EventType":"change_table_privilege","Statement":"GRANT SELECT ON TABLE clinic.public.patients TO ‹analyst_%d›","Tag":"GRANT","User":"root","DescriptorID":112,"Grantee":"‹analyst_%d›","GrantedPrivileges":["SELECT"],"TableName":"‹clinic.public.patients›"}`,
				ts, i%5, i%5)
		}
		payloads = append(payloads, p)
		chans = append(chans, ch)
		tags = append(tags, fmt.Sprintf("10.20.%d.%d:%d,%s", i%7, i%250, 40000+i%20000, user))
	}
	return payloads, chans, tags
}

func benchJSONLines(n int) [][]byte {
	ps, chans, tags := benchPayloads(n)
	out := make([][]byte, n)
	for i, p := range ps {
		client, user, _ := strings.Cut(tags[i], ",")
		ts := 1749650000 + int64(i)
		out[i] = []byte(fmt.Sprintf(`{"channel_numeric":%d,"channel":"%s","timestamp":"%d.%09d","cluster_id":"3f1c9e2a-7b44-4d0e-9a51-0c6de2b1a9f7","node_id":2,"tenant_id":1,"tenant_name":"system","version":"v24.3.4","severity_numeric":1,"severity":"INFO","goroutine":%d,"file":"util/log/event_log.go","line":39,"entry_counter":%d,"redactable":1,"tags":{"n":"2","client":"%s","hostssl":"","user":"%s"},"event":%s}`,
			chans[i], channelName(int64(chans[i])), ts, i*1000%1e9, 50000+i, i, client, user, p))
	}
	return out
}

func benchV2Lines(n int) [][]byte {
	ps, chans, tags := benchPayloads(n)
	out := make([][]byte, n)
	base := time.Date(2025, 6, 11, 14, 0, 0, 0, time.UTC)
	for i, p := range ps {
		client, user, _ := strings.Cut(tags[i], ",")
		t := base.Add(time.Duration(i) * time.Millisecond)
		out[i] = []byte(fmt.Sprintf(`I%s %d %d@util/log/event_log.go:39 ⋮ [T1,Vsystem,n2,client=%s,hostssl,user=%s] %d =%s`,
			t.Format("060102 15:04:05.000000"), 50000+i, chans[i], client, user, i, p))
	}
	return out
}

func runDecoderBench(b *testing.B, dec parse.Decoder, lines [][]byte) {
	var total int
	for _, l := range lines {
		total += len(l)
	}
	b.SetBytes(int64(total / len(lines)))
	b.ReportAllocs()
	var (
		out    []event.Event
		events int
	)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		out, err = dec.Feed(source.Line{Text: lines[i%len(lines)], File: "bench.log", Offset: int64(i)}, out[:0])
		if err != nil {
			b.Fatal(err)
		}
		events += len(out)
	}
	out, _ = dec.Flush(out[:0])
	events += len(out)
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkJSONDecoder(b *testing.B) {
	runDecoderBench(b, NewJSONDecoder(testNormalizer(), Options{}), benchJSONLines(1000))
}

func BenchmarkV2Decoder(b *testing.B) {
	runDecoderBench(b, NewV2Decoder(testNormalizer(), Options{}), benchV2Lines(1000))
}

// TestBenchMix keeps the benchmark input honest: every line decodes,
// without errors, and the average line is near the 860 B of the field mix.
func TestBenchMix(t *testing.T) {
	for name, ls := range map[string][][]byte{"json": benchJSONLines(200), "v2": benchV2Lines(200)} {
		var sb strings.Builder
		total := 0
		for _, l := range ls {
			sb.Write(l)
			sb.WriteByte('\n')
			total += len(l)
		}
		in := []byte(sb.String())
		evs, errs := decodeAll(t, decoderFor(in, Options{}), in)
		if len(errs) > 0 || len(evs) != len(ls) {
			t.Fatalf("%s: %d events, errors %v", name, len(evs), errs)
		}
		t.Logf("%s: average line %d bytes", name, total/len(ls))
	}
}

// BenchmarkJSONParseOnly is the floor for BenchmarkJSONDecoder: fastjson
// parsing of the same lines and a walk over the payload keys, with no
// mapping and no Normalizer. Compare the two on the same (shared) machine.
func BenchmarkJSONParseOnly(b *testing.B) {
	lines := benchJSONLines(1000)
	var p fastjson.Parser
	var total int
	for _, l := range lines {
		total += len(l)
	}
	b.SetBytes(int64(total / len(lines)))
	b.ReportAllocs()
	keys := 0
	for i := 0; i < b.N; i++ {
		v, err := p.ParseBytes(lines[i%len(lines)])
		if err != nil {
			b.Fatal(err)
		}
		v.GetObject("event").Visit(func(k []byte, _ *fastjson.Value) { keys += len(k) })
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
