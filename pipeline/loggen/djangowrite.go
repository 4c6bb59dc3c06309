package loggen

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"time"
)

// djServer is one Django app server (gunicorn workers) and its log file:
// server 0 writes the verbose text format to app.log, server 1 writes
// python-json-logger records to app.json.log.
type djServer struct {
	idx     int
	ip      string
	workers []djWorker
	name    string // relative file name
	f       *os.File
	w       *bufio.Writer
}

// djWorker is a gunicorn worker process and its request thread.
type djWorker struct{ pid, tid int64 }

func newDjServer(idx int, r *rng) *djServer {
	s := &djServer{idx: idx, ip: appServerIPs[idx]}
	base := int64(r.between(3000, 9000))
	for i := 0; i < 4; i++ {
		s.workers = append(s.workers, djWorker{pid: base + int64(i*r.between(1, 9)+i), tid: 140231946300000 + int64(r.between(0, 99999))*64})
	}
	if idx == 0 {
		s.name = "django/app.log"
	} else {
		s.name = "django/app.json.log"
	}
	return s
}

// djRec is one Django log record before rendering.
type djRec struct {
	at     int64
	level  string // DEBUG INFO WARNING ERROR
	logger string // django.db.backends, django.request, ...
	module string // {module} of the verbose formatter
	w      djWorker
	msg    string
	exc    string // formatted traceback, no trailing newline
	extras []djKV // python-json-logger extra fields, in order
}

// djKV is one extra attribute with its value already JSON-encoded.
type djKV struct {
	k string
	v []byte
}

// asctime renders Python's default asctime (UTC here): "2025-06-11 16:05:44,902".
func asctime(ns int64) string {
	t := time.Unix(0, ns).UTC()
	return t.Format("2006-01-02 15:04:05") + "," + fmt.Sprintf("%03d", t.Nanosecond()/1e6)
}

// render formats the record for server s, including the final newline.
func (s *djServer) render(r *djRec) []byte {
	if s.idx == 0 {
		b := make([]byte, 0, len(r.msg)+96)
		b = append(b, r.level...)
		b = append(b, ' ')
		b = append(b, asctime(r.at)...)
		b = append(b, ' ')
		b = append(b, r.module...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, r.w.pid, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, r.w.tid, 10)
		b = append(b, ' ')
		b = append(b, r.msg...)
		if r.exc != "" {
			b = append(b, '\n')
			b = append(b, r.exc...)
		}
		return append(b, '\n')
	}
	b := make([]byte, 0, 2*len(r.msg)+160)
	b = append(b, `{"asctime": `...)
	b = appendPyJSONString(b, asctime(r.at))
	b = append(b, `, "levelname": `...)
	b = appendPyJSONString(b, r.level)
	b = append(b, `, "name": `...)
	b = appendPyJSONString(b, r.logger)
	b = append(b, `, "message": `...)
	b = appendPyJSONString(b, r.msg)
	for _, kv := range r.extras {
		b = append(b, ", "...)
		b = appendPyJSONString(b, kv.k)
		b = append(b, ": "...)
		b = append(b, kv.v...)
	}
	if r.exc != "" {
		b = append(b, `, "exc_info": `...)
		b = appendPyJSONString(b, r.exc)
	}
	return append(b, "}\n"...)
}

// sqlRecord builds the django.db.backends DEBUG record of one statement.
func sqlRecord(at int64, w djWorker, durSec float64, sql string, params []val, alias string) *djRec {
	msg := fmt.Sprintf("(%.3f) %s; args=%s; alias=%s", durSec, sql, pyTupleRepr(params), alias)
	var pj []byte
	if params == nil {
		pj = []byte("null")
	} else {
		pj = append(pj, '[')
		for i, v := range params {
			if i > 0 {
				pj = append(pj, ", "...)
			}
			pj = v.appendPyJSON(pj)
		}
		pj = append(pj, ']')
	}
	return &djRec{
		at: at, level: "DEBUG", logger: "django.db.backends", module: "utils", w: w, msg: msg,
		extras: []djKV{
			{"duration", []byte(pyFloat(durSec))},
			{"sql", appendPyJSONString(nil, sql)},
			{"params", pj},
			{"alias", appendPyJSONString(nil, alias)},
		},
	}
}

// requestRecord builds a django.request / django.security.* record.
func requestRecord(at int64, w djWorker, level, logger, msg string, status int, method, path string) *djRec {
	module := "log"
	return &djRec{
		at: at, level: level, logger: logger, module: module, w: w, msg: msg,
		extras: []djKV{
			{"status_code", []byte(strconv.Itoa(status))},
			{"request", appendPyJSONString(nil, "<WSGIRequest: "+method+" '"+path+"'>")},
		},
	}
}

// appRecord builds a record of one of the application's own loggers.
func appRecord(at int64, w djWorker, level, logger, module, msg string) *djRec {
	return &djRec{at: at, level: level, logger: logger, module: module, w: w, msg: msg}
}

func (s *djServer) open(out string) error {
	f, err := os.Create(out + "/" + s.name)
	if err != nil {
		return fmt.Errorf("creating django log: %w", err)
	}
	s.f, s.w = f, bufio.NewWriterSize(f, 64<<10)
	return nil
}

func (s *djServer) write(b []byte) error {
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("writing %s: %w", s.name, err)
	}
	return nil
}

func (s *djServer) close() error {
	if s.f == nil {
		return nil
	}
	err := s.w.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f = nil
	return err
}
