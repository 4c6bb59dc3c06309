package runner

import (
	"path/filepath"
	"regexp"
	"sort"

	"roachwatch/pipeline/source"
)

// crdbRotated matches CockroachDB's log file names:
// {program}[-{group}].{host}.{user}.{YYYY-MM-DDTHH_MM_SSZ}.{pid}.log
var crdbRotated = regexp.MustCompile(`^(cockroach[^.]*)\.(.+)\.(\d{4}-\d{2}-\d{2}T\d{2}_\d{2}_\d{2}Z)\.(\d+)\.log$`)

// Sequences groups files into sequences that are read one after the other
// by one goroutine: the rotated files of one CockroachDB file group (same
// directory, program-group, host and user) follow each other in time, so
// chaining them keeps the stream ordered while holding one reader's memory
// instead of one per file. Every other file is a sequence of its own.
// Sequences are ordered by their first path; files within one by start
// time (then pid).
func Sequences(files []source.File) [][]source.File {
	type member struct {
		f         source.File
		start     string
		pid       string
		sortOrder int
	}
	byKey := map[string][]member{}
	var keys []string
	for i, f := range files {
		base := filepath.Base(f.Path)
		key := "\x00" + f.Path // a sequence of its own
		var m member
		if g := crdbRotated.FindStringSubmatch(base); g != nil {
			key = filepath.Dir(f.Path) + "\x00" + g[1] + "\x00" + g[2]
			m.start, m.pid = g[3], g[4]
		}
		m.f, m.sortOrder = f, i
		if _, ok := byKey[key]; !ok {
			keys = append(keys, key)
		}
		byKey[key] = append(byKey[key], m)
	}
	out := make([][]source.File, 0, len(keys))
	for _, k := range keys {
		ms := byKey[k]
		sort.SliceStable(ms, func(i, j int) bool {
			if ms[i].start != ms[j].start {
				return ms[i].start < ms[j].start
			}
			if ms[i].pid != ms[j].pid {
				return ms[i].pid < ms[j].pid
			}
			return ms[i].sortOrder < ms[j].sortOrder
		})
		seq := make([]source.File, len(ms))
		for i, m := range ms {
			seq[i] = m.f
		}
		out = append(out, seq)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i][0].Path < out[j][0].Path })
	return out
}
