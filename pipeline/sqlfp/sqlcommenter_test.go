package sqlfp

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSQLCommenter(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{
			name: "opentelemetry after substitution",
			in:   `app_name='accounts',controller='accounts%3Aprofile',db_driver='django_cockroachdb',framework='django%3A4.2.11',route='accounts/%3Cint%3Apk%3E/',traceparent='00-5a1e9c0b7d2f44c1a8e3f6b2d9c0e7a1-3b9d2c4e5f6a7b8c-01'`,
			want: map[string]string{
				"app_name": "accounts", "controller": "accounts:profile", "db_driver": "django_cockroachdb",
				"framework": "django:4.2.11", "route": "accounts/<int:pk>/",
				"traceparent": "00-5a1e9c0b7d2f44c1a8e3f6b2d9c0e7a1-3b9d2c4e5f6a7b8c-01",
			},
		},
		{
			name: "django doubled percent",
			in:   `controller='accounts%%3Aprofile',framework='django%%3A4.2.11',route='accounts/%%3Cint%%3Apk%%3E/'`,
			want: map[string]string{"controller": "accounts:profile", "framework": "django:4.2.11", "route": "accounts/<int:pk>/"},
		},
		{name: "with delimiters", in: ` /*route='a%2Fb'*/ `, want: map[string]string{"route": "a/b"}},
		{name: "body of a line comment", in: ` k='v'`, want: map[string]string{"k": "v"}},
		{name: "key that looks like a comment", in: `--='0'`, want: map[string]string{"--": "0"}},
		{name: "escaped quote", in: `k='it\'s'`, want: map[string]string{"k": "it's"}},
		{name: "plus is space", in: `k='a+b%20c'`, want: map[string]string{"k": "a b c"}},
		{name: "double unescape", in: `k='%2541'`, want: map[string]string{"k": "A"}},
		{name: "invalid escape empties value", in: `k='%zz',j='ok'`, want: map[string]string{"k": "", "j": "ok"}},
		{name: "duplicate keeps first", in: `k='1',k='2'`, want: map[string]string{"k": "1"}},
		{name: "encoded key", in: `a%20b='v'`, want: map[string]string{"a b": "v"}},
		{name: "spaces around pairs", in: ` a='1' , b='2' `, want: map[string]string{"a": "1", "b": "2"}},
		{name: "not shaped: prose", in: `just a comment`},
		{name: "not shaped: unquoted value", in: `k=v`},
		{name: "not shaped: one bad pair", in: `k='v',oops`},
		{name: "not shaped: two equals", in: `k='a=b'`},
		{name: "not shaped: empty", in: ``},
		{name: "not shaped: trailing comma", in: `k='v',`},
		{name: "not shaped: lone quote", in: `k='`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, ParseSQLCommenter([]byte(tt.in)))
		})
	}
}
