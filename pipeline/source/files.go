package source

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// File is one input file found by Expand.
type File struct {
	Path string
	Size int64
}

// Expand turns the paths a user named (files, directories, globs) into a
// sorted, de-duplicated list of regular files. Directories are walked
// recursively; symbolic links inside them are skipped, because CockroachDB
// keeps a cockroach-<group>.log link to the newest file of each group and
// following it would read that file twice. A link named explicitly is
// followed.
func Expand(paths []string) ([]File, error) {
	seen := map[string]bool{}
	var out []File
	add := func(p string, size int64) {
		abs, err := filepath.Abs(p)
		if err != nil {
			abs = p
		}
		if !seen[abs] {
			seen[abs] = true
			out = append(out, File{Path: p, Size: size})
		}
	}
	for _, arg := range paths {
		matches := []string{arg}
		if hasGlob(arg) {
			m, err := filepath.Glob(arg)
			if err != nil {
				return nil, fmt.Errorf("input %q: %w", arg, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("input %q: no file matches", arg)
			}
			matches = m
		}
		for _, p := range matches {
			st, err := os.Stat(p)
			if err != nil {
				return nil, fmt.Errorf("input: %w", err)
			}
			if !st.IsDir() {
				if st.Mode().IsRegular() {
					add(p, st.Size())
				}
				continue
			}
			err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.Type()&fs.ModeSymlink != 0 || !d.Type().IsRegular() {
					return nil
				}
				info, err := d.Info()
				if err != nil {
					return err
				}
				add(path, info.Size())
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("walking %s: %w", p, err)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func hasGlob(p string) bool {
	for _, c := range p {
		switch c {
		case '*', '?', '[':
			return true
		}
	}
	return false
}
