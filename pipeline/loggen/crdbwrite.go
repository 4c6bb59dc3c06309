package loggen

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxV2Payload is the payload size after which a crdb-v2 entry is split
// into '|' continuation lines.
const maxV2Payload = 16000

// crdbSink is one file group of one node: the active file, its rotation
// and the per-sink entry counter.
type crdbSink struct {
	n       *node
	grp     group
	dir     string // absolute log directory
	relDir  string // log directory relative to Config.Out
	maxSize int64

	f       *os.File
	w       *bufio.Writer
	size    int64
	counter int64
	names   []string // file names in creation order
	buf     []byte
}

// program is the file name stem of the group.
func (s *crdbSink) program() string {
	if s.grp == grpDefault {
		return "cockroach"
	}
	return "cockroach-" + groupNames[s.grp]
}

// fileName follows {program}-{group}.{host}.{user}.{start}.{pid}.log.
func (s *crdbSink) fileName(t int64) string {
	ts := time.Unix(0, t).UTC().Format("2006-01-02T15_04_05Z")
	host := strings.ReplaceAll(s.n.host, ".", "_")
	return fmt.Sprintf("%s.%s.%s.%s.%06d.log", s.program(), host, "cockroach", ts, s.n.pid)
}

// open starts a new file at time t and writes its [config] header.
func (s *crdbSink) open(t int64) error {
	if err := s.closeFile(); err != nil {
		return err
	}
	name := s.fileName(t)
	f, err := os.Create(filepath.Join(s.dir, name))
	if err != nil {
		return fmt.Errorf("creating log file: %w", err)
	}
	s.f, s.w, s.size = f, bufio.NewWriterSize(f, 64<<10), 0
	s.names = append(s.names, name)
	for _, m := range headerMessages(s.n, t) {
		s.buf = s.renderHeader(s.buf[:0], t, m)
		if err := s.put(s.buf); err != nil {
			return err
		}
	}
	return nil
}

// headerMessages are the [config] entries at the top of every file.
func headerMessages(n *node, t int64) []string {
	created := time.Unix(0, t).UTC().Format("2006/01/02 15:04:05")
	format := n.format
	msgs := []string{
		"file created at: " + created,
		"running on machine: " + mark(n.host),
		"binary: CockroachDB CCL " + crdbVersion + " (x86_64-pc-linux-gnu, built 2025/01/14 18:32:05, go1.22.8 X:nocoverageredesign)",
		"arguments: [" + strings.Join([]string{mark("cockroach"), mark("start"), mark("--certs-dir=/cockroach/certs"),
			mark("--store=/cockroach/data"), mark("--listen-addr=" + n.host + ":26257"), mark("--http-addr=" + n.host + ":8080"),
			mark("--join=db-node-1,db-node-2,db-node-3"), mark("--log-config-file=/etc/cockroach/logs.yaml")}, " ") + "]",
		"log format (utf8=✓): " + format,
	}
	if format == FormatCRDBV2 {
		msgs = append(msgs, `line format: [IWEF]yymmdd hh:mm:ss.uuuuuu goid [chan@]file:line redactionmark \[tags\] [counter] msg`)
		// crdb-v2 lines carry no cluster id: files started after the node
		// joined its cluster name it in the header.
		msgs = append(msgs, "clusterID: "+n.cluster, fmt.Sprintf("nodeID: n%d", n.id))
	}
	return msgs
}

func (s *crdbSink) put(b []byte) error {
	n, err := s.w.Write(b)
	s.size += int64(n)
	if err != nil {
		return fmt.Errorf("writing %s: %w", s.names[len(s.names)-1], err)
	}
	return nil
}

// write renders e with the next counter value, rotating first if the
// active file is full.
func (s *crdbSink) write(e *entry) error {
	if s.f == nil || s.size >= s.maxSize {
		if err := s.open(e.at); err != nil {
			return err
		}
	}
	s.counter++
	if s.n.format == FormatCRDBV2 {
		s.buf = s.renderV2(s.buf[:0], e)
	} else {
		s.buf = s.renderJSON(s.buf[:0], e)
	}
	return s.put(s.buf)
}

func (s *crdbSink) closeFile() error {
	if s.f == nil {
		return nil
	}
	err := s.w.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f, s.w = nil, nil
	return err
}

// close flushes the active file and points the group symlink at it.
func (s *crdbSink) close() error {
	if err := s.closeFile(); err != nil {
		return err
	}
	if len(s.names) == 0 {
		return nil
	}
	link := filepath.Join(s.dir, s.program()+".log")
	_ = os.Remove(link)
	if err := os.Symlink(s.names[len(s.names)-1], link); err != nil {
		return fmt.Errorf("linking %s: %w", link, err)
	}
	return nil
}

// files lists the written files (and the symlink) relative to Out.
func (s *crdbSink) files() []string {
	out := make([]string, 0, len(s.names)+1)
	for _, n := range s.names {
		out = append(out, filepath.ToSlash(filepath.Join(s.relDir, n)))
	}
	return append(out, filepath.ToSlash(filepath.Join(s.relDir, s.program()+".log")))
}

// appendTimestamp writes the JSON envelope time "<sec>.<9 digits>".
func appendTimestamp(b []byte, t int64) []byte {
	b = strconv.AppendInt(b, t/1e9, 10)
	frac := strconv.FormatInt(t%1e9+1e9, 10)
	b = append(b, '.')
	return append(b, frac[1:]...)
}

var severityNames = map[byte]string{'I': "INFO", 'W': "WARNING", 'E': "ERROR", 'F': "FATAL"}
var severityNumbers = map[byte]int64{'I': 1, 'W': 2, 'E': 3, 'F': 4}
