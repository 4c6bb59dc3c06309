package tail

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// found is a file discovery saw.
type found struct {
	path string
	id   string
}

// discover expands the configured paths into regular files keyed by
// identity. Globs and directory walks skip symbolic links: CockroachDB
// keeps a cockroach-<group>.log link to the newest file of each group,
// which is tailed under its real name anyway. A link named explicitly is
// followed; the identity of its target is what counts, so when the link
// moves to a new file that file is picked up and the old one read to EOF.
func discover(paths []string) map[string]found {
	out := map[string]found{}
	add := func(p string, fi os.FileInfo) {
		if !fi.Mode().IsRegular() {
			return
		}
		id, ok := fileID(fi)
		if !ok {
			return
		}
		if prev, dup := out[id]; !dup || p < prev.path {
			out[id] = found{path: p, id: id}
		}
	}
	walk := func(dir string) {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.Type()&fs.ModeSymlink != 0 || !d.Type().IsRegular() {
				return nil // unreadable entries are retried at the next scan
			}
			if fi, err := d.Info(); err == nil {
				add(p, fi)
			}
			return nil
		})
	}
	for _, arg := range paths {
		if !strings.ContainsAny(arg, "*?[") {
			fi, err := os.Stat(arg)
			if err != nil {
				continue // may appear later
			}
			if fi.IsDir() {
				walk(arg)
			} else {
				add(arg, fi)
			}
			continue
		}
		matches, _ := filepath.Glob(arg)
		sort.Strings(matches)
		for _, p := range matches {
			fi, err := os.Lstat(p)
			if err != nil || fi.Mode()&fs.ModeSymlink != 0 {
				continue
			}
			if fi.IsDir() {
				walk(p)
			} else {
				add(p, fi)
			}
		}
	}
	return out
}
