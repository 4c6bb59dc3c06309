package tlsrule

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSessionUsersIsBounded(t *testing.T) {
	s := newSessionUsers(3)
	for i := 0; i < 10; i++ {
		s.put(strconv.Itoa(i), "u"+strconv.Itoa(i), "")
	}
	require.Len(t, s.m, 3)
	require.Len(t, s.order, 3)
	_, _, ok := s.get("6")
	require.False(t, ok, "oldest entries are forgotten")
	u, _, ok := s.get("9")
	require.True(t, ok)
	require.Equal(t, "u9", u)
	s.put("9", "u9", "django")
	s.put("9", "u9", "")
	require.Equal(t, "django", s.app("9"), "a later event without application keeps the known one")
}
