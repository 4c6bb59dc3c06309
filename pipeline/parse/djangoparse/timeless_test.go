package djangoparse

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Records without a time of their own repeat byte for byte (Django's
// default console format): each keeps its own id, and the ids depend on
// the file's base name and offset, not on its directory. Records with a
// time keep ids that depend on their content only.
func TestTimelessRecordsKeepDistinctIDs(t *testing.T) {
	ids := func(c caseOptions, file string, data string) []string {
		evs, errs := feedAll(t, newDecoder(t, c, nil), file, []byte(data))
		require.Empty(t, errs)
		out := make([]string, len(evs))
		for i, ev := range evs {
			out[i] = ev.ID
		}
		return out
	}
	bare := caseOptions{Format: "{message}", FallbackTime: 1749650700000000000}
	lines := "Unauthorized: /accounts/login/\nUnauthorized: /accounts/login/\nUnauthorized: /accounts/login/\n"
	a := ids(bare, "/var/log/app/django.log", lines)
	require.Len(t, a, 3)
	require.NotEqual(t, a[0], a[1])
	require.NotEqual(t, a[1], a[2])
	require.NotEqual(t, a[0], a[2])
	require.Equal(t, a, ids(bare, "logs/django.log", lines), "same file, other directory")
	require.NotEqual(t, a, ids(bare, "logs/django.log.1", lines), "another file")

	timed := caseOptions{Format: "{asctime} {levelname} {message}"}
	line := "2025-06-11 14:05:00,123 WARNING Unauthorized: /accounts/login/\n"
	x := ids(timed, "/var/log/app/django.log", line+line)
	require.Len(t, x, 2)
	require.Equal(t, x[0], x[1], "a timed record's id is its content's")
	require.Equal(t, x[:1], ids(timed, "other.log", "\n"+line)[:1], "whatever the file and offset")
}
