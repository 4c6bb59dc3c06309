package chenv

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		http, native string
		want         Env
		wantErr      bool
	}{
		{http: "http://127.0.0.1:18123", want: Env{HTTPURL: "http://127.0.0.1:18123", HTTPAddr: "127.0.0.1:18123"}},
		{http: "http://127.0.0.1:18123/", native: "127.0.0.1:19000",
			want: Env{HTTPURL: "http://127.0.0.1:18123", HTTPAddr: "127.0.0.1:18123", NativeAddr: "127.0.0.1:19000"}},
		{http: "127.0.0.1:18123", wantErr: true},             // no scheme
		{http: "http://127.0.0.1", wantErr: true},            // no port
		{http: "http://127.0.0.1:18123/db", wantErr: true},   // path
		{http: "clickhouse://127.0.0.1:9000", wantErr: true}, // not HTTP
		{http: "http://127.0.0.1:18123", native: "19000", wantErr: true},
	} {
		got, err := parse(tc.http, tc.native)
		if (err != nil) != tc.wantErr {
			t.Errorf("parse(%q, %q) error = %v, want error %v", tc.http, tc.native, err, tc.wantErr)
			continue
		}
		if err == nil && got != tc.want {
			t.Errorf("parse(%q, %q) = %+v, want %+v", tc.http, tc.native, got, tc.want)
		}
	}
}

func TestServerSkipsWhenUnset(t *testing.T) {
	t.Setenv(VarHTTP, "")
	t.Setenv(VarRequire, "")
	skipped := true
	t.Run("inner", func(t *testing.T) {
		Server(t)
		skipped = false
	})
	if !skipped {
		t.Fatal("Server did not skip with the variable unset")
	}
}
