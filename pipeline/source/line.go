// Package source reads log lines from files, directories and streams.
package source

// Line is one physical line of input without its line terminator.
//
// Text is owned by the reader and valid only until the next line is read:
// a consumer that keeps bytes (a decoder holding a multi-line entry) must
// copy them.
type Line struct {
	Text   []byte
	File   string // path or logical name of the source
	Offset int64  // byte offset of the line's first byte in File
	// Truncated is set when the physical line was longer than the reader's
	// limit; Text then holds only its first part.
	Truncated bool
}
